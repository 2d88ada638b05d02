import { inArray, sql } from "drizzle-orm";
import { cdnDomainHealth, cdnStreamerDomains, withTransaction, type Db } from "@vod/db";
import type { Health, HealthDelta } from "./domain-health.ts";
import type { Discovered } from "./learned-domains.ts";
import type { StreamerDelta, StreamerHistory } from "./streamer-history.ts";

/** A row of cdn_domain_health: the domain's health, and when it is a learned one, its last hit and where GQL named it. */
export interface DomainRow {
  domain: string;
  health: Health;
  learned: { lastHit: number; from: string } | null;
}

/** Every domain's row (a few dozen). */
export async function readDomainRows(db: Db): Promise<DomainRow[]> {
  const rows = await db.select().from(cdnDomainHealth);
  return rows.map((r) => ({
    domain: r.domain,
    health: {
      score: r.score,
      scoredAt: r.scoredAt.getTime(),
      consecutiveFailures: r.consecutiveFailures,
      lastSuccessAt: r.lastSuccessAt?.getTime() ?? null,
      lastFailureAt: r.lastFailureAt?.getTime() ?? null,
    },
    learned: r.discoveredAt ? { lastHit: r.discoveredAt.getTime(), from: r.discoveredFrom ?? "" } : null,
  }));
}

/** The histories of these streamers (numeric ids) that have a row, in one query. */
export async function readStreamerRows(db: Db, streamerIds: readonly string[]): Promise<Map<string, StreamerHistory>> {
  const rows = await db
    .select()
    .from(cdnStreamerDomains)
    .where(inArray(cdnStreamerDomains.streamerId, streamerIds.map(Number)));
  return new Map(
    rows.map((r) => [
      String(r.streamerId),
      {
        domain: r.domain,
        foundAt: r.foundAt?.getTime() ?? null,
        found: r.foundCount,
        notFound: r.notFoundCount,
        unlistedFound: r.unlistedFoundCount,
        checkedAt: r.checkedAt?.getTime() ?? null,
      },
    ]),
  );
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

/**
 * Adds these deltas to the rows in one transaction, merged with what other fetchers wrote: counts
 * added, the latest domain kept, scores decayed and summed. `learned` gives a learned domain's last
 * hit and origin, as it is when its row is written.
 */
export async function writeKnowledge(
  db: Db,
  streamers: readonly [string, StreamerDelta][],
  domains: readonly [string, HealthDelta][],
  halfLifeMs: number,
  learned: (domain: string) => Discovered | undefined,
): Promise<void> {
  const t = cdnStreamerDomains;
  const h = cdnDomainHealth;
  await withTransaction(db, async (tx) => {
    for (let i = 0; i < streamers.length; i += 1_000) {
      const rows = streamers.slice(i, i + 1_000).map(([id, d]) => ({
        streamerId: Number(id),
        domain: d.domain,
        foundAt: date(d.foundAt),
        foundCount: d.found,
        notFoundCount: d.notFound,
        unlistedFoundCount: d.unlistedFound,
        checkedAt: date(d.checkedAt),
      }));
      await tx
        .insert(t)
        .values(rows)
        .onConflictDoUpdate({
          target: t.streamerId,
          set: {
            domain: sql`CASE WHEN excluded.found_at IS NOT NULL AND (${t.foundAt} IS NULL OR excluded.found_at >= ${t.foundAt}) THEN excluded.domain ELSE ${t.domain} END`,
            foundAt: sql`greatest(${t.foundAt}, excluded.found_at)`,
            foundCount: sql`${t.foundCount} + excluded.found_count`,
            notFoundCount: sql`${t.notFoundCount} + excluded.not_found_count`,
            unlistedFoundCount: sql`${t.unlistedFoundCount} + excluded.unlisted_found_count`,
            checkedAt: sql`greatest(${t.checkedAt}, excluded.checked_at)`,
          },
        });
    }
    if (domains.length > 0) {
      // Seconds between the two scores' times, decayed by the half-life: the same rule as healthWithDelta.
      const decay = (a: unknown, b: unknown) =>
        sql`power(2::float8, -abs(extract(epoch from (${a} - ${b}))) * 1000 / ${halfLifeMs}::float8)`;
      const rows = domains.map(([domain, d]) => {
        const found = learned(domain);
        return {
          domain,
          score: d.score,
          scoredAt: new Date(d.scoredAt),
          consecutiveFailures: d.failures,
          lastSuccessAt: date(d.lastSuccessAt),
          lastFailureAt: date(d.lastFailureAt),
          discoveredAt: found ? new Date(found.lastHit) : null,
          discoveredFrom: found?.from ?? null,
        };
      });
      await tx
        .insert(h)
        .values(rows)
        .onConflictDoUpdate({
          target: h.domain,
          set: {
            score: sql`CASE WHEN excluded.scored_at >= ${h.scoredAt} THEN ${h.score} * ${decay(sql`excluded.scored_at`, h.scoredAt)} + excluded.score ELSE ${h.score} + excluded.score * ${decay(h.scoredAt, sql`excluded.scored_at`)} END`,
            scoredAt: sql`greatest(${h.scoredAt}, excluded.scored_at)`,
            // Failures in a row: this process's count when it saw a success at least as late as any other, else added.
            consecutiveFailures: sql`CASE WHEN excluded.last_success_at IS NOT NULL AND excluded.last_success_at >= coalesce(${h.lastSuccessAt}, '-infinity') THEN excluded.consecutive_failures ELSE ${h.consecutiveFailures} + excluded.consecutive_failures END`,
            lastSuccessAt: sql`greatest(${h.lastSuccessAt}, excluded.last_success_at)`,
            lastFailureAt: sql`greatest(${h.lastFailureAt}, excluded.last_failure_at)`,
            // A learned domain's last hit by any fetcher: what its expiry counts from.
            discoveredAt: sql`greatest(${h.discoveredAt}, excluded.discovered_at)`,
            discoveredFrom: sql`coalesce(${h.discoveredFrom}, excluded.discovered_from)`,
          },
        });
    }
  });
}
