import type { StreamSnapshot, VodFetchResult } from "@vod/kafka";

/** A VOD's identity: (stream id, start time to the millisecond). */
export function vodKeyOf(streamId: string, startTime: string): string {
  return `${streamId}@${Date.parse(startTime)}`;
}

export interface SnapshotRow {
  streamId: string;
  startTime: string;
  streamerId: string;
  login: string;
  title: string | null;
  gameId: string | null;
  gameName: string | null;
  language: string | null;
  mature: boolean | null;
  /** observedAt of the snapshot the at-start fields came from. */
  startFieldsSeenAt: string;
  maxViewers: number;
  firstSeen: string;
  lastSeen: string;
  /** Indices (into the input) of the messages folded into this row. */
  sources: number[];
}

const earlier = (a: string, b: string) => Date.parse(a) < Date.parse(b);

/**
 * Folds a batch of snapshots into one row per VOD with the same rules the upsert applies, so
 * the result does not depend on how messages were split into batches: max viewers and last
 * seen only grow, first seen only shrinks, at-start fields come from the earliest observation
 * (the first in order among equals). Snapshots under `minViewers` are skipped: a row exists only
 * for a VOD that reached it, whatever the delivery order (the fetch result later brings the
 * delay's first and last sightings, which include the skipped ones).
 */
export function mergeSnapshots(snapshots: readonly StreamSnapshot[], minViewers = 0): SnapshotRow[] {
  const rows = new Map<string, SnapshotRow>();
  snapshots.forEach((s, i) => {
    if (s.viewers < minViewers) return;
    const key = vodKeyOf(s.streamId, s.startTime);
    const row = rows.get(key);
    if (!row) {
      rows.set(key, {
        streamId: s.streamId,
        startTime: new Date(s.startTime).toISOString(),
        streamerId: s.streamerId,
        login: s.login,
        title: s.title,
        gameId: s.gameId,
        gameName: s.gameName,
        language: s.language,
        mature: s.mature,
        startFieldsSeenAt: s.observedAt,
        maxViewers: s.viewers,
        firstSeen: s.observedAt,
        lastSeen: s.observedAt,
        sources: [i],
      });
      return;
    }
    row.sources.push(i);
    row.maxViewers = Math.max(row.maxViewers, s.viewers);
    if (earlier(s.observedAt, row.firstSeen)) row.firstSeen = s.observedAt;
    if (earlier(row.lastSeen, s.observedAt)) row.lastSeen = s.observedAt;
    if (earlier(s.observedAt, row.startFieldsSeenAt)) {
      Object.assign(row, {
        login: s.login,
        title: s.title,
        gameId: s.gameId,
        gameName: s.gameName,
        language: s.language,
        mature: s.mature,
        startFieldsSeenAt: s.observedAt,
      });
    }
  });
  return [...rows.values()].sort(byKey);
}

export interface ResultRow {
  streamId: string;
  startTime: string;
  streamerId: string;
  login: string;
  firstSeen: string;
  lastSeen: string;
  maxViewers: number;
  /** The outcome that wins (see `outcomeBeats`). */
  result: ArchiveResult;
  /** Folded over every result of the VOD with `joinKnown`, whichever outcome won. */
  public: boolean | null;
  subOnly: boolean | null;
  /** The video id any result of the VOD carried (the listing names one per VOD); null when none did. */
  videoId: string | null;
  sources: number[];
}

/**
 * How visibility values combine: a known value replaces null and null never erases one; of two
 * known values true wins (the VOD was seen listed, or archives sub only, at some lookup). The
 * table keeps no time per value, so only an order-free rule makes replays in any order agree.
 * The upsert applies the same rule in SQL.
 */
export function joinKnown(a: boolean | null, b: boolean | null): boolean | null {
  if (a === null) return b;
  if (b === null) return a;
  return a || b;
}

/** A result that says something about the archive; a `live` one only says the stream had not ended. */
export type ArchiveResult = VodFetchResult & { outcome: Exclude<VodFetchResult["outcome"], "live"> };

const isArchiveResult = (r: VodFetchResult): r is ArchiveResult => r.outcome !== "live";

export const OUTCOME_RANK = { live: 0, failed: 1, not_found: 2, found: 3 } as const;

/**
 * Whether outcome `a` replaces an outcome `b` already stored: a better outcome always does
 * (found > not_found > failed, so a found is never lost to a later failure), and among equals
 * the later fetch does. A total order, so any delivery order ends in the same row.
 */
export function outcomeBeats(
  a: Pick<VodFetchResult, "outcome" | "fetchedAt">,
  b: Pick<VodFetchResult, "outcome" | "fetchedAt">,
): boolean {
  const ra = OUTCOME_RANK[a.outcome];
  const rb = OUTCOME_RANK[b.outcome];
  return ra > rb || (ra === rb && earlier(b.fetchedAt, a.fetchedAt));
}

/** One row per VOD; `live` outcomes, and VODs whose sightings stayed under `minViewers`, are skipped. */
export function mergeResults(results: readonly VodFetchResult[], minViewers = 0): ResultRow[] {
  const rows = new Map<string, ResultRow>();
  results.forEach((r, i) => {
    // The stream had not ended: no outcome to store; the delay releases it again after its real end.
    if (!isArchiveResult(r)) return;
    if (r.maxViewers < minViewers) return;
    const key = vodKeyOf(r.streamId, r.startTime);
    const row = rows.get(key);
    if (!row) {
      rows.set(key, {
        streamId: r.streamId,
        startTime: new Date(r.startTime).toISOString(),
        streamerId: r.streamerId,
        login: r.login,
        firstSeen: r.firstSeen,
        lastSeen: r.lastSeen,
        maxViewers: r.maxViewers,
        result: r,
        public: r.visibility?.public ?? null,
        subOnly: r.visibility?.subOnly ?? null,
        videoId: r.videoId ?? null,
        sources: [i],
      });
      return;
    }
    row.sources.push(i);
    row.maxViewers = Math.max(row.maxViewers, r.maxViewers);
    if (earlier(r.firstSeen, row.firstSeen)) row.firstSeen = r.firstSeen;
    if (earlier(row.lastSeen, r.lastSeen)) row.lastSeen = r.lastSeen;
    if (outcomeBeats(r, row.result)) row.result = r;
    row.public = joinKnown(row.public, r.visibility?.public ?? null);
    row.subOnly = joinKnown(row.subOnly, r.visibility?.subOnly ?? null);
    row.videoId ??= r.videoId ?? null;
  });
  return [...rows.values()].sort(byKey);
}

// One lock order for every statement, so concurrent batches touching the same VODs do not deadlock.
function byKey(a: { streamId: string; startTime: string }, b: { streamId: string; startTime: string }): number {
  const ia = BigInt(a.streamId);
  const ib = BigInt(b.streamId);
  if (ia !== ib) return ia < ib ? -1 : 1;
  return Date.parse(a.startTime) - Date.parse(b.startTime);
}
