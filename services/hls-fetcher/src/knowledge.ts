import { sql } from "drizzle-orm";
import { cdnDomainHealth, cdnStreamerDomains, withTransaction, type Db } from "@vod/db";
import type { TimestampVariant } from "@vod/twitch";

export interface KnowledgeOptions {
  /** Clock-time half-life of a domain's success score. */
  halfLifeMs: number;
  failureThreshold: number;
  cooldownMs: number;
}

interface Health {
  score: number;
  scoredAt: number;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

export type DomainState = "closed" | "open" | "probe" | "probing";

/** How a streamer's VODs turned out so far: the prior for the next one. */
export interface StreamerHistory {
  /** The domain that last served one of its VODs; null until one is found. */
  domain: string | null;
  foundAt: number | null;
  found: number;
  notFound: number;
  /** Found on the CDN while GQL did not list them: the streamer hides its VODs. */
  unlistedFound: number;
  /** Last CDN search for one of its VODs (at least one request). */
  checkedAt: number | null;
}

interface Discovered {
  at: number;
  from: string;
}

/**
 * What the fetcher learns: which domain last served each streamer, and each domain's health
 * (a decaying success score, failures in a row). Kept in memory, written to Postgres after each
 * batch (before its results are published), and loaded at start, so a restart does not begin cold.
 */
export class DomainKnowledge {
  readonly #streamers = new Map<string, StreamerHistory>();
  readonly #discovered = new Map<string, Discovered>();
  readonly #health = new Map<string, Health>();
  readonly #dirtyStreamers = new Set<string>();
  readonly #dirtyDomains = new Set<string>();
  readonly #probing = new Map<string, { at: number; settled: Promise<void>; settle: () => void }>();
  readonly #variantHits: Record<TimestampVariant, number> = { start: 0, minus1: 0, seconds: 0 };

  constructor(private readonly options: KnowledgeOptions) {}

  static async load(db: Db, options: KnowledgeOptions): Promise<DomainKnowledge> {
    const k = new DomainKnowledge(options);
    for (const r of await db.select().from(cdnStreamerDomains)) {
      k.#streamers.set(String(r.streamerId), {
        domain: r.domain,
        foundAt: r.foundAt?.getTime() ?? null,
        found: r.foundCount,
        notFound: r.notFoundCount,
        unlistedFound: r.unlistedFoundCount,
        checkedAt: r.checkedAt?.getTime() ?? null,
      });
    }
    for (const r of await db.select().from(cdnDomainHealth)) {
      if (r.discoveredAt) k.#discovered.set(r.domain, { at: r.discoveredAt.getTime(), from: r.discoveredFrom ?? "" });
      k.#health.set(r.domain, {
        score: r.score,
        scoredAt: r.scoredAt.getTime(),
        consecutiveFailures: r.consecutiveFailures,
        lastSuccessAt: r.lastSuccessAt?.getTime() ?? null,
        lastFailureAt: r.lastFailureAt?.getTime() ?? null,
      });
    }
    return k;
  }

  get streamersKnown(): number {
    return this.#streamers.size;
  }

  streamerDomain(streamerId: string): string | undefined {
    return this.#streamers.get(streamerId)?.domain ?? undefined;
  }

  history(streamerId: string): Readonly<StreamerHistory> | undefined {
    return this.#streamers.get(streamerId);
  }

  /** Domains learned from GQL's seekPreviewsURLs that are not configured, in the order learned. */
  discoveredDomains(): string[] {
    return [...this.#discovered].sort((a, b) => a[1].at - b[1].at).map(([d]) => d);
  }

  /** Remembers a domain GQL named for a VOD (`from`: its key); true when it was new. */
  discover(domain: string, from: string, now: number): boolean {
    if (this.#discovered.has(domain)) return false;
    this.#discovered.set(domain, { at: now, from });
    this.#healthOf(domain, now);
    this.#dirtyDomains.add(domain);
    return true;
  }

  /** A VOD of the streamer was not found (`searched`: at least one CDN request was made for it). */
  notFound(streamerId: string, searched: boolean, now: number): void {
    const h = this.#historyOf(streamerId);
    h.notFound++;
    if (searched) h.checkedAt = now;
    this.#dirtyStreamers.add(streamerId);
  }

  #historyOf(streamerId: string): StreamerHistory {
    let h = this.#streamers.get(streamerId);
    if (!h) this.#streamers.set(streamerId, (h = { domain: null, foundAt: null, found: 0, notFound: 0, unlistedFound: 0, checkedAt: null }));
    return h;
  }

  /** The success score decayed to `now`. */
  score(domain: string, now: number): number {
    const h = this.#health.get(domain);
    if (!h) return 0;
    return h.score * 2 ** (-Math.max(0, now - h.scoredAt) / this.options.halfLifeMs);
  }

  /** Hits per timestamp variant seen by this process, for ordering the variants. */
  variantHits(): Readonly<Record<TimestampVariant, number>> {
    return this.#variantHits;
  }

  /**
   * closed: use it. open: failing; skip it until the cooldown passes. probe: the cooldown passed and
   * this caller's one request tests it. probing: another caller's test is in flight; wait for
   * `probeSettled` and ask again, rather than give up on a domain that may be back.
   */
  state(domain: string, now: number): DomainState {
    const h = this.#health.get(domain);
    if (!h || h.consecutiveFailures < this.options.failureThreshold) return "closed";
    if (h.lastFailureAt !== null && now - h.lastFailureAt < this.options.cooldownMs) return "open";
    // One probe at a time; a probe that never reported back expires after a cooldown.
    const probe = this.#probing.get(domain);
    if (probe !== undefined && now - probe.at < this.options.cooldownMs) return "probing";
    probe?.settle();
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.#probing.set(domain, { at: now, settled, settle });
    return "probe";
  }

  /** Resolves once the probe in flight on `domain` has reported back (at once when there is none). */
  probeSettled(domain: string): Promise<void> {
    return this.#probing.get(domain)?.settled ?? Promise.resolve();
  }

  /** Ends the probe on `domain` whatever its answer was (a 429, or an aborted request, says nothing of the domain). */
  endProbe(domain: string): void {
    this.#probing.get(domain)?.settle();
    this.#probing.delete(domain);
  }

  /** A VOD of the streamer was found on `domain`; `listed`: GQL listed it. */
  found(streamerId: string, domain: string, variant: TimestampVariant, now: number, listed = false): void {
    const s = this.#historyOf(streamerId);
    s.domain = domain;
    s.foundAt = now;
    s.found++;
    s.checkedAt = now;
    if (!listed) s.unlistedFound++;
    this.#dirtyStreamers.add(streamerId);
    this.#variantHits[variant]++;
    const h = this.#healthOf(domain, now);
    h.score = this.score(domain, now) + 1;
    h.scoredAt = now;
    // answered() leaves a domain that succeeded a moment ago clean; the score changed all the same.
    this.#dirtyDomains.add(domain);
    this.answered(domain, now);
  }

  /** The domain answered (a hit or a clean 403/404): it is healthy. */
  answered(domain: string, now: number): void {
    const h = this.#healthOf(domain, now);
    this.endProbe(domain);
    if (h.consecutiveFailures === 0 && h.lastSuccessAt !== null && now - h.lastSuccessAt < 60_000) return;
    h.consecutiveFailures = 0;
    h.lastSuccessAt = now;
    this.#dirtyDomains.add(domain);
  }

  failed(domain: string, now: number): void {
    const h = this.#healthOf(domain, now);
    h.consecutiveFailures++;
    h.lastFailureAt = now;
    this.#dirtyDomains.add(domain);
    this.endProbe(domain);
  }

  #healthOf(domain: string, now: number): Health {
    let h = this.#health.get(domain);
    if (!h) this.#health.set(domain, (h = { score: 0, scoredAt: now, consecutiveFailures: 0, lastSuccessAt: null, lastFailureAt: null }));
    return h;
  }

  /** Writes what changed since the last flush; on failure it stays dirty for the next one. */
  async flush(db: Db): Promise<void> {
    const streamers = [...this.#dirtyStreamers];
    const domains = [...this.#dirtyDomains];
    if (streamers.length === 0 && domains.length === 0) return;
    this.#dirtyStreamers.clear();
    this.#dirtyDomains.clear();
    try {
      await withTransaction(db, async (tx) => {
        if (streamers.length > 0) {
          const rows = streamers.map((id) => {
            const s = this.#streamers.get(id)!;
            const date = (ms: number | null) => (ms === null ? null : new Date(ms));
            return {
              streamerId: Number(id),
              domain: s.domain,
              foundAt: date(s.foundAt),
              foundCount: s.found,
              notFoundCount: s.notFound,
              unlistedFoundCount: s.unlistedFound,
              checkedAt: date(s.checkedAt),
            };
          });
          await tx
            .insert(cdnStreamerDomains)
            .values(rows)
            .onConflictDoUpdate({
              target: cdnStreamerDomains.streamerId,
              set: {
                domain: sql`excluded.domain`,
                foundAt: sql`excluded.found_at`,
                foundCount: sql`excluded.found_count`,
                notFoundCount: sql`excluded.not_found_count`,
                unlistedFoundCount: sql`excluded.unlisted_found_count`,
                checkedAt: sql`excluded.checked_at`,
              },
            });
        }
        if (domains.length > 0) {
          const rows = domains.map((domain) => {
            const h = this.#health.get(domain)!;
            const date = (ms: number | null) => (ms === null ? null : new Date(ms));
            const found = this.#discovered.get(domain);
            return {
              domain,
              score: h.score,
              scoredAt: new Date(h.scoredAt),
              consecutiveFailures: h.consecutiveFailures,
              lastSuccessAt: date(h.lastSuccessAt),
              lastFailureAt: date(h.lastFailureAt),
              discoveredAt: found ? new Date(found.at) : null,
              discoveredFrom: found?.from ?? null,
            };
          });
          await tx
            .insert(cdnDomainHealth)
            .values(rows)
            .onConflictDoUpdate({
              target: cdnDomainHealth.domain,
              set: {
                score: sql`excluded.score`,
                scoredAt: sql`excluded.scored_at`,
                consecutiveFailures: sql`excluded.consecutive_failures`,
                lastSuccessAt: sql`excluded.last_success_at`,
                lastFailureAt: sql`excluded.last_failure_at`,
                // A domain once discovered stays so, whichever instance wrote last.
                discoveredAt: sql`coalesce(${cdnDomainHealth.discoveredAt}, excluded.discovered_at)`,
                discoveredFrom: sql`coalesce(${cdnDomainHealth.discoveredFrom}, excluded.discovered_from)`,
              },
            });
        }
      });
    } catch (err) {
      for (const s of streamers) this.#dirtyStreamers.add(s);
      for (const d of domains) this.#dirtyDomains.add(d);
      throw err;
    }
  }
}
