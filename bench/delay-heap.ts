/**
 * The delay's state over a simulated week: its real state machine (one `Tracker` per snapshot
 * partition, as services/delay runs them) fed as delay.ts feeds it, by a Twitch-shaped population at
 * the tracked threshold: `--streams` live at the daily peak (fewer at the trough), `--per-day` VODs
 * ending a day (streams of a few hours, new streams starting so the population holds), a sweep every
 * 5 minutes (snapshots in batches, then each partition's marker), releases taken when due, state
 * changes flushed after each batch, released VODs pruned every minute. Besides: a few streams dip
 * under the threshold for a while (they end by absence, some are released and seen again, and the
 * fetch of those says `live`), a few streamers restart, a few sweeps are incomplete, and now and then
 * part of a sweep is delivered twice. Prints the heap after each simulated day (after a full GC) with
 * what the trackers hold; a seeded PRNG, so every run sees the same week.
 *   node --expose-gc --import tsx bench/delay-heap.ts [--days 7] [--streams 33000] [--per-day 168000] [--seed 1] [--scale 1]
 */
import { parseArgs } from "node:util";
import { partitionOf, STREAM_PARTITIONS, sweepMarkers, type StreamSnapshot, type VodFetchResult } from "@vod/kafka";
import { Tracker } from "../services/delay/src/tracker.ts";

const { values: args } = parseArgs({
  options: {
    days: { type: "string", default: "7" },
    streams: { type: "string", default: "33000" },
    "per-day": { type: "string", default: "168000" },
    seed: { type: "string", default: "1" },
    /** Multiplies --streams and --per-day (a smaller week of the same shape). */
    scale: { type: "string", default: "1" },
    /** Streamers the streams are drawn from (skewed: a few stream daily, most rarely). */
    streamers: { type: "string", default: "600000" },
    /** Live streams at the daily trough, as a share of the peak. */
    trough: { type: "string", default: "0.6" },
  },
});
const DAYS = Number(args.days);
const SCALE = Number(args.scale);
const PEAK = Math.round(Number(args.streams) * SCALE);
const PER_DAY = Math.round(Number(args["per-day"]) * SCALE);
const STREAMERS = Number(args.streamers);
const TROUGH = Number(args.trough) * PEAK;
for (const [name, v] of Object.entries({
  days: DAYS,
  streams: PEAK,
  "per-day": PER_DAY,
  streamers: STREAMERS,
  trough: TROUGH,
  seed: Number(args.seed),
})) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SWEEP_EVERY = 5 * MIN;
/** Time a sweep takes to page through the directory; its snapshots' observedAt spread over it, one per page. */
const SWEEP_TAKES = MIN;
const PAGE = 30;
/** The delay consumer's batch size (BATCH_MAX_MESSAGES); each batch is applied, evaluated and flushed. */
const BATCH = 5_000;
/** The delay's defaults (services/delay/src/env.ts). */
const OPTIONS = {
  endAfterMs: 15 * MIN,
  muteIntervalMs: HOUR,
  muteMinGapMs: 5 * MIN,
  muteMarginMs: 10 * MIN,
  recentSweeps: 8,
  releasedRetentionMs: DAY,
  minViewers: 10,
};
const TRACK_MIN = 5;
const T0 = Date.UTC(2026, 0, 5);
/** The peak of the daily cycle (UTC hour). */
const PEAK_HOUR = 20;

// mulberry32: seeded, so every run sees the same week.
let seed = Number(args.seed) | 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** Live streams wanted at time t: a daily cosine between the trough and the peak. */
const target = (t: number) =>
  TROUGH + ((PEAK - TROUGH) * (1 + Math.cos((2 * Math.PI * (t - PEAK_HOUR * HOUR)) / DAY))) / 2;
// Little's law: the mean stream length that ends PER_DAY a day from the mean live population.
const MEAN_LENGTH = (((PEAK + TROUGH) / 2) * DAY) / PER_DAY;
const SIGMA = 0.8;
/** Stream lengths: log-normal (most a few hours, some much longer), mean MEAN_LENGTH. */
const streamLength = () => Math.max(10 * MIN, Math.exp(Math.log(MEAN_LENGTH) - (SIGMA * SIGMA) / 2 + SIGMA * normal()));

interface Stream {
  streamerId: string;
  login: string;
  streamId: string;
  startTime: string;
  start: number;
  end: number;
  /** Viewers at their highest (reached 30 minutes in); Pareto from TRACK_MIN, about 60% reach MIN_VIEWERS. */
  peak: number;
  partition: number;
  /** Under TRACK_MIN viewers (not in sweeps) from dipFrom to dipTo. */
  dipFrom: number;
  dipTo: number;
}

let nextStreamId = 40_000_000_000;
const live: Stream[] = [];
const liveStreamers = new Set<string>();
/** Restarts: the streamer goes live again shortly after its stream ended. */
let restarts: { at: number; streamerId: string; streamId: string }[] = [];

function startStream(start: number, streamerId?: string, streamId?: string): void {
  let id = streamerId;
  while (id === undefined || liveStreamers.has(id)) id = String(1_000_000 + Math.floor(STREAMERS * rand() ** 2));
  // Not cached per streamer: a map of every streamer seen would grow all week.
  const partition = partitionOf(id, STREAM_PARTITIONS);
  const end = start + streamLength();
  const dips = rand() < 0.03;
  const dipFrom = dips ? start + rand() * (end - start) : Infinity;
  liveStreamers.add(id);
  live.push({
    streamerId: id,
    login: `u${id}`,
    streamId: streamId ?? String(nextStreamId++),
    startTime: new Date(start).toISOString(),
    start,
    end,
    peak: Math.max(TRACK_MIN, Math.floor(TRACK_MIN / (1 - rand()) ** (1 / 0.75))),
    partition,
    dipFrom,
    dipTo: dipFrom + 20 * MIN + rand() * 70 * MIN,
  });
}

const viewersAt = (s: Stream, t: number) =>
  Math.round(TRACK_MIN + (s.peak - TRACK_MIN) * Math.min(1, (t - s.start) / (30 * MIN)));

const trackers = Array.from({ length: STREAM_PARTITIONS }, (_, partition) => new Tracker({ ...OPTIONS, partition }));
let stateRecords = 0;
/** As delay.ts's flush: take the changes, write them (here: count them), then mark them written. */
function flush(t: Tracker): void {
  const changes = t.changes();
  stateRecords += changes.records.length + changes.tombstones.length;
  t.flushed(changes);
}

const stats = { ended: 0, started: 0, released: 0, liveResults: 0, sweeps: 0, incomplete: 0, redelivered: 0 };
/** `live` fetch results waiting for their fetch time. */
let results: { at: number; partition: number; result: VodFetchResult }[] = [];

/** delay.ts's release tick: sweeps evaluated (inputs caught up), due VODs released and marked, state flushed. */
function releaseTick(now: number): void {
  const byId = new Map<string, Stream>();
  for (const t of trackers) {
    t.evaluate(true);
    for (;;) {
      const due = t.due(now);
      if (due.length === 0) break;
      for (const d of due) {
        t.markReleased(d.key, now);
        stats.released++;
        if (byId.size === 0) for (const s of live) byId.set(`${s.streamId}:${s.startTime}`, s);
        // Released while the stream still runs (it dipped under the threshold): the fetch finds no ENDLIST.
        const s = byId.get(`${d.request.streamId}:${d.request.startTime}`);
        if (s && s.end > now) {
          results.push({
            at: now + MIN,
            partition: t.partition,
            result: {
              ...d.request,
              outcome: "live",
              fetchedAt: new Date(now + MIN).toISOString(),
              requests: 2,
              found: null,
              error: null,
            },
          });
        }
      }
    }
    flush(t);
  }
}

function sweep(at: number, previous: StreamSnapshot[][]): StreamSnapshot[][] {
  const sweepId = `${at.toString(36)}-${Math.floor(rand() * 1e9).toString(36)}`;
  const complete = rand() >= 0.02;
  const byPartition: StreamSnapshot[][] = Array.from({ length: STREAM_PARTITIONS }, () => []);
  let n = 0;
  let observedAt = "";
  for (const s of live) {
    if (s.start > at || (s.dipFrom <= at && at < s.dipTo)) continue;
    // An incomplete sweep stopped part-way: about a third of the streams are not in it.
    if (!complete && rand() < 0.3) continue;
    if (n % PAGE === 0) observedAt = new Date(at + Math.min(SWEEP_TAKES, (n / PAGE) * 50)).toISOString();
    n++;
    byPartition[s.partition]!.push({
      v: 1,
      sweepId,
      observedAt,
      streamId: s.streamId,
      startTime: s.startTime,
      streamerId: s.streamerId,
      login: s.login,
      viewers: viewersAt(s, at),
      title: null,
      gameId: null,
      gameName: null,
      language: null,
      mature: null,
    });
  }
  const markers = sweepMarkers(
    {
      sweepId,
      startedAt: new Date(at).toISOString(),
      finishedAt: new Date(at + SWEEP_TAKES).toISOString(),
      complete,
      reason: complete ? null : "gql",
      count: n,
    },
    byPartition.map((p) => p.length),
  );
  for (const t of trackers) {
    const snapshots = byPartition[t.partition]!;
    // The markers' topic is read beside the snapshots': now and then a marker comes before its snapshots.
    const markerFirst = rand() < 0.1;
    if (markerFirst) {
      t.addMarker(markers[t.partition]!, at + SWEEP_TAKES);
      t.evaluate(false);
      flush(t);
    }
    for (let i = 0; i < snapshots.length; i += BATCH) {
      for (const s of snapshots.slice(i, i + BATCH)) t.applySnapshot(s);
      t.evaluate(false);
      flush(t);
    }
    if (!markerFirst) {
      t.addMarker(markers[t.partition]!, at + SWEEP_TAKES);
      t.evaluate(false);
      flush(t);
    }
    // A batch of the previous sweep delivered again (a consumer restart before its commit).
    const before = previous[t.partition];
    if (before && before.length > 0 && rand() < 0.02) {
      for (const s of before.slice(0, BATCH)) t.applySnapshot(s);
      t.evaluate(false);
      flush(t);
      stats.redelivered++;
    }
  }
  stats.sweeps++;
  if (!complete) stats.incomplete++;
  return byPartition;
}

interface DayFigures {
  day: number;
  heapMb: number;
  live: number;
  ended: number;
  releasedRecords: number;
  releasedKept: number;
  sweepCounts: number;
  sweepUntracked: number;
  pendingSweeps: number;
  dirty: number;
  streamsLive: number;
  endedToday: number;
  releasedToday: number;
}
const figures: DayFigures[] = [];
const started = performance.now();
gc();
const baseMb = process.memoryUsage().heapUsed / 1_048_576;

// Start from the population live at T0, already streaming for a while.
while (live.length < target(T0)) startStream(T0 - rand() * 3 * HOUR);
let previous: StreamSnapshot[][] = [];
let lastDay = { ended: 0, released: 0 };
for (let now = T0 + MIN; now <= T0 + DAYS * DAY; now += MIN) {
  // Streams that ended in the minute leave; some streamers restart a few minutes later.
  for (let i = live.length - 1; i >= 0; i--) {
    const s = live[i]!;
    if (s.end > now) continue;
    live[i] = live[live.length - 1]!;
    live.pop();
    liveStreamers.delete(s.streamerId);
    stats.ended++;
    if (rand() < 0.04)
      restarts.push({
        at: s.end + MIN + rand() * 9 * MIN,
        streamerId: s.streamerId,
        streamId: rand() < 0.3 ? s.streamId : String(nextStreamId++),
      });
  }
  const restarting = restarts.filter((r) => r.at <= now);
  restarts = restarts.filter((r) => r.at > now);
  for (const r of restarting) if (!liveStreamers.has(r.streamerId)) startStream(r.at, r.streamerId, r.streamId);
  const want = target(now);
  while (live.length < want) {
    startStream(now - rand() * MIN);
    stats.started++;
  }
  const fetched = results.filter((r) => r.at <= now);
  results = results.filter((r) => r.at > now);
  for (const r of fetched) {
    const t = trackers[r.partition]!;
    t.applyResult(r.result);
    flush(t);
    stats.liveResults++;
  }
  if ((now - T0) % SWEEP_EVERY === 0) previous = sweep(now, previous);
  for (const t of trackers) t.prune(now);
  releaseTick(now);

  if ((now - T0) % DAY === 0) {
    previous = [];
    gc();
    const heapMb = Math.round((process.memoryUsage().heapUsed / 1_048_576) * 10) / 10;
    const f: DayFigures = {
      day: (now - T0) / DAY,
      heapMb,
      live: 0,
      ended: 0,
      releasedRecords: 0,
      releasedKept: 0,
      sweepCounts: 0,
      sweepUntracked: 0,
      pendingSweeps: 0,
      dirty: 0,
      streamsLive: live.length,
      endedToday: stats.ended - lastDay.ended,
      releasedToday: stats.released - lastDay.released,
    };
    for (const t of trackers) {
      for (const v of t.vods.values()) {
        if (v.status === "live") f.live++;
        else if (v.status === "ended") f.ended++;
        else f.releasedRecords++;
      }
      f.releasedKept += t.releasedCount;
      const b = t.sweepBookkeeping;
      f.sweepCounts += b.counts;
      f.sweepUntracked += b.untracked;
      f.pendingSweeps += b.pending;
      f.dirty += t.dirtyCount;
    }
    lastDay = { ended: stats.ended, released: stats.released };
    figures.push(f);
    console.log(
      `day ${f.day}: heap ${heapMb} MB; tracked live ${f.live}, ended ${f.ended}, released (records) ${f.releasedRecords}; released kept ${f.releasedKept}; ` +
        `sweep counts ${f.sweepCounts}, untracked ${f.sweepUntracked}, pending ${f.pendingSweeps}; dirty ${f.dirty}; ` +
        `streams live ${f.streamsLive}; ended ${f.endedToday}, released ${f.releasedToday} today (${Math.round((performance.now() - started) / 1000)} s)`,
    );
  }
}

const seconds = Math.round((performance.now() - started) / 1000);
const counters = trackers.reduce<Record<string, number>>((sum, t) => {
  for (const [k, n] of Object.entries(t.counters)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}, {});
console.log("");
console.log(`| day | ${figures.map((f) => f.day).join(" | ")} |`);
console.log(`|---|${figures.map(() => "---|").join("")}`);
const row = (name: string, pick: (f: DayFigures) => number) =>
  console.log(`| ${name} | ${figures.map((f) => pick(f).toLocaleString("en-US")).join(" | ")} |`);
row("heap (MB)", (f) => f.heapMb);
row("tracked live", (f) => f.live);
row("tracked ended", (f) => f.ended);
row("released kept", (f) => f.releasedKept);
row("sweep bookkeeping (counts / untracked / pending)", (f) => f.sweepCounts + f.sweepUntracked + f.pendingSweeps);
row("VODs ended that day", (f) => f.endedToday);
row("released that day", (f) => f.releasedToday);
console.log(
  `heap before the trackers: ${Math.round(baseMb * 10) / 10} MB; ${stats.sweeps} sweeps (${stats.incomplete} incomplete), ${stats.redelivered} batches redelivered, ${stats.liveResults} live results, ${stateRecords} state records; ${seconds} s`,
);
console.log(`tracker counters: ${JSON.stringify(counters)}`);
const heaps = figures.map((f) => f.heapMb);
// Growth per day from day 2 on: day 1 still fills the released retention (24 h).
const tail = heaps.slice(1);
const growthMbPerDay =
  tail.length >= 2 ? Math.round(((tail.at(-1)! - tail[0]!) / (tail.length - 1)) * 100) / 100 : null;
console.log(
  JSON.stringify({
    bench: "delay-heap",
    days: DAYS,
    streams: PEAK,
    perDay: PER_DAY,
    seed: Number(args.seed),
    scale: SCALE,
    heapMb: heaps,
    tracked: figures.map((f) => f.live + f.ended + f.releasedRecords),
    live: figures.map((f) => f.live),
    released: figures.map((f) => f.releasedKept),
    endedPerDay: figures.map((f) => f.endedToday),
    releasedPerDay: figures.map((f) => f.releasedToday),
    growthMbPerDay,
    seconds,
  }),
);
