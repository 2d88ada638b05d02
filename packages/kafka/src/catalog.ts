import { z } from "zod";
import { partitionOf, STREAM_PARTITIONS } from "./partition.ts";
import { defineTopic, type TopicDef } from "./topic.ts";

const DAY = 86_400_000;
const isoTime = z.iso.datetime({ offset: true });
const id = z.string().regex(/^\d+$/, "expected a numeric id");

/** One live stream as seen by one sweep. */
export const streamSnapshot = z.object({
  v: z.literal(1),
  sweepId: z.string().min(1),
  observedAt: isoTime,
  streamId: id,
  /** Start time with millisecond precision; with streamId it identifies the VOD. */
  startTime: isoTime,
  streamerId: id,
  login: z.string().min(1),
  viewers: z.number().int().nonnegative(),
  title: z.string().nullable(),
  gameId: z.string().nullable(),
  gameName: z.string().nullable(),
  language: z.string().nullable(),
  mature: z.boolean().nullable(),
});
export type StreamSnapshot = z.output<typeof streamSnapshot>;

/**
 * Version 1, one marker per sweep on a one-partition topic: no longer written. A reader keeps it
 * valid (old messages stay readable) but cannot tell which of the sweep's snapshots it covers.
 */
const sweepMarkerV1 = z.object({
  v: z.literal(1),
  sweepId: z.string().min(1),
  startedAt: isoTime,
  finishedAt: isoTime,
  complete: z.boolean(),
  /** Why the sweep is incomplete (null when complete). */
  reason: z.string().nullable(),
  /** Snapshots published by this sweep. */
  count: z.number().int().nonnegative(),
});
export type SweepMarkerV1 = z.output<typeof sweepMarkerV1>;

/**
 * Sent after a sweep's snapshots, one per snapshot partition, on that partition of the sweeps topic:
 * whoever owns a partition of the snapshots gets the marker that says how many of the sweep's
 * snapshots that partition holds. Only a complete sweep counts as evidence that a stream is gone.
 */
const sweepMarkerV2 = sweepMarkerV1.extend({
  v: z.literal(2),
  /** Snapshots of this sweep in `partition` of the snapshots topic. */
  count: z.number().int().nonnegative(),
  partition: z.number().int().nonnegative(),
  /** Partitions of the snapshots topic the poller published to (one marker each). */
  partitions: z.number().int().positive(),
  /** Snapshots of the whole sweep. */
  total: z.number().int().nonnegative(),
});
export type SweepMarkerV2 = z.output<typeof sweepMarkerV2>;

export const sweepMarker = z.discriminatedUnion("v", [sweepMarkerV1, sweepMarkerV2]);
export type SweepMarker = z.output<typeof sweepMarker>;

/**
 * A sweep's markers, one per partition of the snapshots topic, each with the count of the sweep's
 * snapshots published there (`perPartition[p]`); `total` is the sweep's count.
 */
export function sweepMarkers(sweep: Omit<SweepMarker, "v">, perPartition: readonly number[]): SweepMarkerV2[] {
  const { sweepId, startedAt, finishedAt, complete, reason } = sweep;
  return perPartition.map((count, partition) => ({
    v: 2,
    sweepId,
    startedAt,
    finishedAt,
    complete,
    reason,
    count,
    partition,
    partitions: perPartition.length,
    total: sweep.count,
  }));
}

/** How many of `snapshots` the producer puts in each partition of the snapshots topic. */
export function snapshotsPerPartition(
  snapshots: readonly { streamerId: string }[],
  partitions = STREAM_PARTITIONS,
): number[] {
  const counts = new Array<number>(partitions).fill(0);
  for (const s of snapshots) counts[partitionOf(s.streamerId, partitions)]!++;
  return counts;
}

/**
 * Where the live-poller's last sweep of one shard read its pages: the cursor each page was read
 * from and the most viewers on it, and the streamers it published. A restarted poller cuts its first
 * sweep into segments at these cursors instead of paging each shard as one chain.
 */
export const sweepCursors = z.object({
  v: z.literal(1),
  shard: z.string().min(1),
  sweepId: z.string().min(1),
  savedAt: isoTime,
  marks: z.array(z.object({ after: z.string().nullable(), top: z.number().int().nonnegative() })),
  /** Streamers of this shard the sweep published: a restarted poller looks up those its first sweep's pages miss. */
  published: z.array(z.string()).optional(),
});
export type SweepCursors = z.output<typeof sweepCursors>;

/** A VOD and its sightings, as the delay saw them: shared by its fetch request and its outcome. */
const vodSightings = z.object({
  v: z.literal(1),
  streamId: id,
  startTime: isoTime,
  streamerId: id,
  login: z.string().min(1),
  firstSeen: isoTime,
  lastSeen: isoTime,
  maxViewers: z.number().int().nonnegative(),
});

/** An ended VOD whose mute window has passed: fetch its playlist now. */
export const vodFetchRequest = vodSightings.extend({
  releaseAt: isoTime,
  /**
   * The streamer's previous VOD had this same stream id (a same-id restart), so the path's ts may be
   * only the seconds field of the start time. Absent in older messages: false.
   */
  restart: z.boolean().optional(),
  /**
   * Fetches of this VOD answered `live` before (its playlist had no #EXT-X-ENDLIST yet): past the
   * fetcher's LIVE_RESULT_LIMIT it is given up as failed, terminal. Absent: 0.
   */
  liveResults: z.number().int().nonnegative().optional(),
});
export type VodFetchRequest = z.output<typeof vodFetchRequest>;

const found = z.object({
  domain: z.string().min(1),
  url: z.url(),
  /** Which timestamp form the path used: the start time, one second less, or the seconds field. */
  variant: z.enum(["start", "minus1", "seconds"]),
  ts: z.number().int().nonnegative(),
  durationSeconds: z.number().nonnegative(),
  segments: z.number().int().nonnegative(),
  mutedSegments: z.number().int().nonnegative(),
  /** The post-processed playlist, gzipped, base64: one field that keeps the line readable in kcat. */
  playlistGzipBase64: z.string().min(1),
  /** Lines of the CDN's playlist left out as unsafe or unresolvable (other hosts, schemes, junk). Absent: 0. */
  skippedLines: z.number().int().nonnegative().optional(),
});

/**
 * The outcome of one fetch request. Its sightings are copied from the request, so the writer can
 * create the row even when no snapshot reached it first.
 */
export const vodFetchResult = vodSightings.extend({
  /**
   * found: archived. not_found: not on the CDN (as far as the search went, see `partial`).
   * failed: the CDN or the network failed; retried automatically unless `terminal`. live: the playlist answered
   * without #EXT-X-ENDLIST, so the stream had not ended: nothing is archived and the delay
   * tracks the VOD again until its real end.
   */
  outcome: z.enum(["found", "not_found", "failed", "live"]),
  fetchedAt: isoTime,
  /** HTTP requests this VOD cost. */
  requests: z.number().int().nonnegative(),
  found: found.nullable(),
  /** For failed: what went wrong, e.g. "d1m7jfoe9zdc1j.cloudfront.net: timeout". */
  error: z.string().nullable(),
  /**
   * failed only: fetching again would give the same answer (a playlist over a cap), so the VOD is
   * not retried; `error` names why. Absent: false.
   */
  terminal: z.boolean().optional(),
  /**
   * not_found only: the search stopped early because the VOD is unlikely to be on the CDN at all;
   * a low-priority deep search may still find it (then a found result follows). Absent: false.
   */
  partial: z.boolean().optional(),
  /** From the streamer's archive listing; null (or absent, in older messages) where unknown. */
  visibility: z.object({ public: z.boolean().nullable(), subOnly: z.boolean().nullable() }).nullable().optional(),
  /** The video id the streamer's listing names the VOD under (twitch.tv/videos/{id}); absent when not listed. */
  videoId: z
    .string()
    .regex(/^[0-9]{1,19}$/, "expected a video id of 1 to 19 digits")
    // Same-length digit strings compare as numbers: it must fit the bigint column.
    .refine((s) => s.length < 19 || s <= "9223372036854775807", "video id over the bigint range")
    .optional(),
});
export type VodFetchResult = z.output<typeof vodFetchResult>;

/**
 * A request to check whether an archived VOD still plays: the API sends it when a VOD is opened and its
 * last check is older than a day; the hls-fetcher, which owns the CDN budget, requests each segment once.
 */
export const vodCheckRequest = z.object({
  v: z.literal(1),
  streamId: id,
  startTime: isoTime,
  streamerId: id,
  /** A few of the stored playlist's segment URIs (first, middle, last), absolute on the CDN. */
  segments: z.array(z.string().url().max(2048)).min(1).max(5),
  requestedAt: isoTime,
});
export type VodCheckRequest = z.output<typeof vodCheckRequest>;

/** What a check found: every segment asked answered (`playable`), some did (`partial`), none did (`gone`). */
export const vodCheck = z.object({
  v: z.literal(1),
  streamId: id,
  startTime: isoTime,
  streamerId: id,
  state: z.enum(["playable", "partial", "gone"]),
  checkedAt: isoTime,
  checked: z.number().int().positive(),
  /** The segments that did not answer, with the status they gave. */
  dead: z.array(z.object({ uri: z.string(), status: z.string() })),
});
export type VodCheck = z.output<typeof vodCheck>;

/**
 * The delay stage's record of one VOD it tracks; the compacted state topic keeps the last per VOD.
 * Written when something that decides the VOD's fate changes (created, ended, released, revived,
 * reached the archive threshold), not for every sighting: `lastSeen` and `maxViewers` of a live VOD
 * may be older than in memory; the progress record bounds how much (see `delayProgress`).
 */
export const delayVod = vodSightings.extend({
  kind: z.literal("vod"),
  status: z.enum(["live", "ended", "released"]),
  endedAt: isoTime.nullable(),
  endReason: z.enum(["absent", "restart"]).nullable(),
  releaseAt: isoTime.nullable(),
  releasedAt: isoTime.nullable(),
  /** The streamer's previous tracked VOD had this stream id (a same-id restart). Absent: false. */
  restart: z.boolean().optional(),
  /**
   * This record's lastSeen is the last sighting: written when a complete sweep first missed the live
   * VOD, cleared (rewritten) when it is seen again. Absent: lastSeen may be older than the last sighting.
   */
  seenExact: z.boolean().optional(),
  /**
   * When the first complete sweep that missed the live VOD finished (written with seenExact): the stream
   * ended before then (before the sweep read its page), so its mute run is the first after it, however
   * long sweeps failed in between.
   */
  missedAt: isoTime.optional(),
  /** Fetches of this VOD answered `live` so far (each tracked it again); sent with its next release. Absent: 0. */
  liveResults: z.number().int().nonnegative().optional(),
});
export type DelayVod = z.output<typeof delayVod>;

/** A complete sweep whose marker (for one partition) arrived before all that partition's snapshots were handled. */
export const delayPendingSweep = z.object({
  v: z.literal(1),
  kind: z.literal("sweep"),
  marker: sweepMarkerV2,
  receivedAt: isoTime,
});

/**
 * The latest observedAt among snapshots the delay handled, written before their offsets are
 * committed: after a restart, a live VOD may have been seen as late as this (its record is not
 * rewritten for every sighting), so it is not taken as absent or released before that allows.
 */
export const delayProgress = z.object({
  v: z.literal(1),
  kind: z.literal("progress"),
  observedAt: isoTime,
  /** The snapshot partition it is the progress of (absent in the unpartitioned layout). */
  partition: z.number().int().nonnegative().optional(),
});

export const delayState = z.discriminatedUnion("kind", [delayVod, delayPendingSweep, delayProgress]);
export type DelayState = z.output<typeof delayState>;

/** Key of a delay state record: one per VOD (stream id and start time), one per pending sweep and partition, one progress per partition. */
export const delayStateKey = (v: DelayState) =>
  v.kind === "vod"
    ? `vod:${v.streamId}:${v.startTime}`
    : v.kind === "sweep"
      ? `sweep:${v.marker.sweepId}:${v.marker.partition}`
      : `progress:${v.partition ?? ""}`;

/** The snapshot partition a state record belongs to: its streamer's, or the partition it names. */
export const delayStatePartition = (v: DelayState): number | undefined =>
  v.kind === "vod" ? partitionOf(v.streamerId) : v.kind === "sweep" ? v.marker.partition : v.partition;

/** The pipeline's topics. A prefix namespaces them (tests, or several deployments on one cluster). */
export function createCatalog(prefix = "") {
  const name = (n: string) => `${prefix}${n}`;
  return {
    // Co-partitioned (STREAM_PARTITIONS each): snapshots, markers, fetch requests and results, the delay's state.
    streamSnapshots: defineTopic({
      name: name("twitch.stream-snapshots"),
      schema: streamSnapshot,
      key: (v) => v.streamerId,
      partitions: STREAM_PARTITIONS,
      retentionMs: 7 * DAY,
    }),
    sweeps: defineTopic({
      name: name("twitch.sweeps"),
      schema: sweepMarker,
      key: (v) => v.sweepId,
      partition: (v) => (v.v === 2 ? v.partition : undefined),
      partitions: STREAM_PARTITIONS,
      retentionMs: 7 * DAY,
    }),
    vodFetchRequests: defineTopic({
      name: name("twitch.vod-fetch-requests"),
      schema: vodFetchRequest,
      key: (v) => v.streamerId,
      partitions: STREAM_PARTITIONS,
      retentionMs: 14 * DAY,
    }),
    vodFetchResults: defineTopic({
      name: name("twitch.vod-fetch-results"),
      schema: vodFetchResult,
      key: (v) => v.streamerId,
      partitions: STREAM_PARTITIONS,
      retentionMs: 14 * DAY,
    }),
    vodCheckRequests: defineTopic({
      name: name("twitch.vod-check-requests"),
      schema: vodCheckRequest,
      key: (v) => v.streamerId,
      partitions: STREAM_PARTITIONS,
      retentionMs: DAY,
    }),
    vodChecks: defineTopic({
      name: name("twitch.vod-checks"),
      schema: vodCheck,
      key: (v) => v.streamerId,
      partitions: STREAM_PARTITIONS,
      retentionMs: 7 * DAY,
    }),
    sweepCursors: defineTopic({
      name: name("live-poller.cursors"),
      schema: sweepCursors,
      key: (v) => v.shard,
      partitions: 1,
      retentionMs: -1,
      compacted: true,
    }),
    delayState: defineTopic({
      name: name("delay.state"),
      schema: delayState,
      key: delayStateKey,
      partition: delayStatePartition,
      partitions: STREAM_PARTITIONS,
      retentionMs: -1,
      compacted: true,
    }),
  } satisfies Record<string, TopicDef>;
}

export type Catalog = ReturnType<typeof createCatalog>;
