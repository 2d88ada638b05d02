import type { Kafka } from "kafkajs";
import { sql } from "drizzle-orm";
import { cdnDomainHealth, fetchFollowups, type Db } from "@vod/db";
import { readRange, vodFetchRequest } from "@vod/kafka";
import { CommandError } from "./errors.ts";
import { formatKafkaHealth, kafkaHealth, type KafkaHealth } from "./doctor-kafka.ts";
import { offsetsAt, readerGroup } from "./topic-offsets.ts";

export interface DoctorOptions {
  kafka: Kafka;
  db: Db;
  /** The fetch-request topic, and the fetcher's group (for the replay commands it suggests). */
  requestsTopic: string;
  /** The pipeline's topics, whose replication is checked (default: the request topic). */
  topics?: string[];
  fetcherGroup: string;
  now: Date;
  /** How far back to look at releases. */
  sinceMs: number;
  /** A release older than this with no outcome is overdue. */
  overdueAfterMs: number;
  /** Failed fetches released closer together than this form one window. */
  windowGapMs: number;
}

export interface Release {
  streamId: string;
  startTime: string;
  login: string;
  releasedAt: Date;
}

export interface FailedWindow {
  from: Date;
  to: Date;
  vods: number;
  command: string;
}

export interface DoctorReport {
  releases: number;
  overdue: Release[];
  failedWindows: FailedWindow[];
  /** Configured or learned (discoveredAt set: named by a seekPreviewsURL, not configured). */
  domains: (typeof cdnDomainHealth.$inferSelect)[];
  /** What the fetcher still owes by itself: retries of failed VODs, deep searches of VODs given up early. */
  followUps: { retry: number; deep: number };
  /** Brokers, and partitions whose in-sync replicas fall short. */
  kafka: KafkaHealth;
}

/** Releases on the request topic since `since`, by the broker's timestamp of each release. */
async function readReleases(kafka: Kafka, topic: string, since: Date): Promise<Release[]> {
  const admin = kafka.admin();
  await admin.connect();
  let starts: Map<number, string>;
  try {
    if (!(await admin.listTopics()).includes(topic))
      throw new CommandError(`topic ${topic} does not exist; create the topics with npm run topics:create`);
    starts = await offsetsAt(admin, topic, since);
  } finally {
    await admin.disconnect();
  }
  const releases = new Map<string, Release>();
  await readRange(
    { kafka, topic, groupId: readerGroup(topic), from: (p, _low, high) => BigInt(starts.get(p) ?? high) },
    (messages) => {
      for (const m of messages) {
        const parsed = vodFetchRequest.safeParse(parseJson(m.value?.toString() ?? "null"));
        if (!parsed.success) continue;
        const { streamId, startTime, login } = parsed.data;
        // A replayed release counts from its latest publication.
        releases.set(`${streamId}|${startTime}`, {
          streamId,
          startTime,
          login,
          releasedAt: new Date(Number(m.timestamp)),
        });
      }
    },
  );
  return [...releases.values()];
}

/** Outcome of each released VOD, looked up in one query. */
async function outcomes(db: Db, releases: Release[]): Promise<Map<string, string | null>> {
  if (releases.length === 0) return new Map();
  // Array literals: ids are digits and times ISO strings (both schema-checked), so nothing needs quoting.
  const ids = `{${releases.map((r) => r.streamId).join(",")}}`;
  const starts = `{${releases.map((r) => r.startTime).join(",")}}`;
  const rows = await db.execute<{ i: string; outcome: string | null }>(sql`
    select r.i::text as i, v.outcome
    from unnest(${ids}::bigint[], ${starts}::timestamptz[]) with ordinality as r(stream_id, start_time, i)
    left join vods v on v.stream_id = r.stream_id and v.start_time = r.start_time`);
  const result = new Map<string, string | null>();
  for (const row of rows.rows) {
    const r = releases[Number(row.i) - 1];
    if (r) result.set(`${r.streamId}|${r.startTime}`, row.outcome);
  }
  return result;
}

/** Groups failure release times into windows: a gap longer than `gapMs` starts a new one. */
export function failureWindows(times: Date[], gapMs: number): { from: Date; to: Date; count: number }[] {
  const sorted = [...times].sort((a, b) => a.getTime() - b.getTime());
  const windows: { from: Date; to: Date; count: number }[] = [];
  for (const t of sorted) {
    const last = windows[windows.length - 1];
    if (last && t.getTime() - last.to.getTime() <= gapMs) {
      last.to = t;
      last.count++;
    } else windows.push({ from: t, to: t, count: 1 });
  }
  return windows;
}

/**
 * What needs an operator: released VODs with no outcome long after their release, windows of
 * failed fetches worth replaying (with the command that replays each), and each CDN domain's health.
 */
export async function doctor(o: DoctorOptions): Promise<DoctorReport> {
  const releases = await readReleases(o.kafka, o.requestsTopic, new Date(o.now.getTime() - o.sinceMs));
  const byVod = await outcomes(o.db, releases);
  const key = (r: Release) => `${r.streamId}|${r.startTime}`;
  const overdue = releases.filter(
    (r) => !byVod.get(key(r)) && o.now.getTime() - r.releasedAt.getTime() > o.overdueAfterMs,
  );
  const failed = releases.filter((r) => byVod.get(key(r)) === "failed");
  const failedWindows = failureWindows(
    failed.map((r) => r.releasedAt),
    o.windowGapMs,
  ).map((w) => {
    // --to is exclusive: one second past the last failed release.
    const to = new Date(w.to.getTime() + 1_000);
    return {
      from: w.from,
      to,
      vods: w.count,
      command: `npm run replay -- --group ${o.fetcherGroup} --topic ${o.requestsTopic} --from ${w.from.toISOString()} --to ${to.toISOString()}`,
    };
  });
  const domains = await o.db.select().from(cdnDomainHealth).orderBy(cdnDomainHealth.domain);
  const pending = await o.db
    .select({ kind: fetchFollowups.kind, n: sql<number>`count(*)::int` })
    .from(fetchFollowups)
    .groupBy(fetchFollowups.kind);
  const followUps = {
    retry: pending.find((p) => p.kind === "retry")?.n ?? 0,
    deep: pending.find((p) => p.kind === "deep")?.n ?? 0,
  };
  return {
    kafka: await kafkaHealth(o.kafka, o.topics ?? [o.requestsTopic]),
    releases: releases.length,
    overdue: overdue.sort((a, b) => a.releasedAt.getTime() - b.releasedAt.getTime()),
    failedWindows,
    domains,
    followUps,
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [
    ...formatKafkaHealth(r.kafka),
    "",
    `releases looked at: ${r.releases}`,
    "",
    `overdue (released, no outcome): ${r.overdue.length}`,
  ];
  for (const v of r.overdue.slice(0, 20))
    lines.push(`  ${v.login} stream ${v.streamId} started ${v.startTime}, released ${v.releasedAt.toISOString()}`);
  if (r.overdue.length > 20) lines.push(`  … and ${r.overdue.length - 20} more`);
  lines.push("", `failed windows worth replaying: ${r.failedWindows.length}`);
  for (const w of r.failedWindows)
    lines.push(`  ${w.from.toISOString()} .. ${w.to.toISOString()}: ${w.vods} VOD(s)`, `    ${w.command}`);
  lines.push(
    `  (the fetcher retries failed VODs by itself: ${r.followUps.retry} waiting for a retry, ${r.followUps.deep} in the deep search)`,
  );
  lines.push("", "CDN domains:");
  for (const d of r.domains) {
    const learned = d.discoveredAt
      ? `  learned from GQL ${d.discoveredAt.toISOString()} (${d.discoveredFrom ?? "?"}); not in CDN_DOMAINS`
      : "";
    lines.push(
      `  ${d.domain.padEnd(32)} score ${d.score.toFixed(2).padStart(8)}  failures in a row ${d.consecutiveFailures}  last ok ${d.lastSuccessAt?.toISOString() ?? "never"}  last failure ${d.lastFailureAt?.toISOString() ?? "never"}${learned}`,
    );
  }
  if (r.domains.length === 0) lines.push("  (nothing learned yet)");
  return lines.join("\n");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
