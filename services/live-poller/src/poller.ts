import { sleep } from "@vod/backoff";
import Bottleneck from "bottleneck";
import { Counter, Histogram, type Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import {
  createCatalog,
  snapshotsPerPartition,
  STREAM_PARTITIONS,
  sweepMarkers,
  type StreamSnapshot,
  type SweepMarker,
  type TypedProducer,
} from "@vod/kafka";
import type { Logger } from "@vod/log";
import { createGqlBatchClient, type GqlBatchClient } from "@vod/twitch";
import type { PollerEnv } from "./env.ts";
import { saveCursors, type SavedSweep } from "./cursors.ts";
import { SweepHistory } from "./integrity.ts";
import { planShards, type PageMark } from "./shards.ts";
import { newSweepId, runSweep, type SweepResult } from "./sweep.ts";

export interface PollerDeps {
  producer: TypedProducer;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** Replaces the GQL client built from the environment (tests, the bench). */
  gql?: GqlBatchClient;
  /** Called once if the sweep loop dies: the process should exit non-zero so its supervisor restarts it. */
  onCrash?(err: unknown): void;
  /** Called as each POST leaves the limiter (the bench measures the rate the endpoint sees). */
  onPost?(): void;
  /** The last sweep before a restart (saved cursors, streamers published): the first sweep is cut at its pages and looks up its streamers. */
  saved?: SavedSweep;
  /** Called after each sweep with what it cost and what the lookup by id added (the bench). */
  onSweep?(info: { sweepId: string; pages: number; posts: number; recheck: SweepResult["recheck"] }): void;
  /** Called with snapshots and markers once Kafka acknowledged them (the bench). */
  onPublished?(event: { snapshots: StreamSnapshot[] } | { marker: SweepMarker }): void;
}

export interface RunningPoller {
  /** Ends the sweep in hand (marked incomplete if cut short) and stops. */
  stop(): Promise<void>;
  /** Sweep markers published so far. */
  sweeps: number;
  /** Clock time of the last published sweep marker (the start time until the first). */
  lastMarkerAt: number;
  /** Set when the sweep loop died. */
  crashed: unknown;
}

/** Resolves when a POST may leave: at most `k` in any `k / rate` seconds (k = the rate, at least 1). */
export function slidingWindow(rate: number, now: () => number = () => performance.now()): () => Promise<void> {
  const k = Math.max(1, Math.floor(rate));
  // Padded: a POST leaves a few milliseconds after its slot when the event loop is busy.
  const spanMs = (k * 1000) / rate + 25;
  const sent: number[] = [];
  return async function take(): Promise<void> {
    for (;;) {
      const t = now();
      while (sent.length > 0 && t - (sent[0] as number) >= spanMs) sent.shift();
      if (sent.length < k) {
        sent.push(t);
        return;
      }
      await sleep(spanMs - (t - (sent[0] as number)) + 1);
    }
  };
}

/** Sweeps every SWEEP_INTERVAL of clock time; a sweep that overruns is followed by the next at once. */
export function startPoller(env: PollerEnv, deps: PollerDeps): RunningPoller {
  const { producer, clock, log, registry } = deps;
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const metrics = {
    sweeps: new Counter({
      name: "poller_sweeps_total",
      help: "Sweeps by outcome",
      labelNames: ["complete"],
      registers: [registry],
    }),
    snapshots: new Counter({ name: "poller_snapshots_total", help: "Snapshots published", registers: [registry] }),
    dropped: new Counter({
      name: "poller_streams_dropped_total",
      help: "Streams dropped from GQL answers as invalid",
      registers: [registry],
    }),
    pages: new Counter({ name: "poller_pages_total", help: "Pages of live streams read", registers: [registry] }),
    recheck: new Counter({
      name: "poller_recheck_streamers_total",
      help: "Streamers of the last sweep the pages missed, looked up by id, by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    stepBacks: new Counter({
      name: "poller_step_backs_total",
      help: "Times a segment read back because the list was re-sorted under it",
      registers: [registry],
    }),
    retries: new Counter({
      name: "poller_gql_retries_total",
      help: "GQL requests retried, by kind of failure",
      labelNames: ["kind"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "poller_sweep_duration_seconds",
      help: "Real seconds per sweep",
      buckets: [0.1, 1, 5, 30, 60, 180, 300],
      registers: [registry],
    }),
  };
  const limiter = new Bottleneck({ maxConcurrent: env.GQL_CONCURRENCY, minTime: Math.ceil(1000 / env.GQL_RATE) });
  // Bottleneck spaces jobs as it schedules them; a busy event loop can start one late and the next
  // on time. This window holds the rate as the endpoint sees it: never GQL_RATE + 1 POSTs in a second.
  const window = slidingWindow(env.GQL_RATE);
  const posts = new Counter({
    name: "poller_gql_posts_total",
    help: "POSTs to GQL (each carries up to GQL_BATCH pages)",
    registers: [registry],
  });
  const gql =
    deps.gql ??
    createGqlBatchClient({
      endpoint: env.GQL_ENDPOINT,
      clientId: env.GQL_CLIENT_ID,
      headers: env.GQL_HEADERS,
      timeoutMs: env.GQL_TIMEOUT,
      schedule: (post) =>
        limiter.schedule(async () => {
          await window();
          posts.inc();
          deps.onPost?.();
          return post();
        }),
    });
  const history = new SweepHistory({
    minRatio: env.SWEEP_MIN_RATIO,
    history: env.SWEEP_HISTORY,
    minMedian: env.SWEEP_MIN_MEDIAN,
  });
  /** Pages of the last sweep per shard: where to cut the next one into segments. */
  const lastPages = new Map<string, PageMark[]>(deps.saved?.pages ?? []);
  /** Streamers the last sweep published: the next one looks up those its pages miss. */
  let lastPublished: ReadonlySet<string> | undefined =
    deps.saved && deps.saved.published.size > 0 ? deps.saved.published : undefined;

  const stopping = new AbortController();
  const state: RunningPoller & { loop?: Promise<void> } = {
    stop,
    sweeps: 0,
    lastMarkerAt: clock.now(),
    crashed: undefined,
  };

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      const begin = clock.now();
      const sweepId = newSweepId(begin);
      const sweepLog = log.child({ sweepId });
      const timeout = AbortSignal.timeout(Math.max(1, clock.realDelay(env.SWEEP_TIMEOUT)));
      const signal = AbortSignal.any([stopping.signal, timeout]);
      const realStart = performance.now();
      /** Snapshots of this sweep published to each partition of the snapshots topic. */
      const perPartition = new Array<number>(STREAM_PARTITIONS).fill(0);
      const plans = planShards(env.SWEEP_SHARDS, lastPages, {
        segmentPages: env.SEGMENT_PAGES,
        maxSegments: env.MAX_SEGMENTS,
      });
      const result = await runSweep(
        sweepId,
        plans,
        {
          pageSize: env.PAGE_SIZE,
          overlap: env.PAGE_OVERLAP,
          trackMinViewers: env.TRACK_MIN_VIEWERS,
          maxPages: env.MAX_PAGES,
          dropTolerance: env.DROP_TOLERANCE,
          batchSize: env.GQL_BATCH,
          concurrency: env.GQL_CONCURRENCY,
          retries: env.GQL_RETRIES,
          backoffInitialMs: env.GQL_BACKOFF_INITIAL,
          backoffMaxMs: env.GQL_BACKOFF_MAX,
          joinMargin: env.JOIN_MARGIN,
          // Step-backs re-read pages for streams that jumped over a chain's front; the lookup by id finds
          // those of them the last sweep published for a POST or two instead, so they are only worth
          // their pages when there is no last sweep to look up (a first start).
          driftMargin: env.RECHECK_MISSING && lastPublished ? 0 : env.DRIFT_MARGIN,
        },
        {
          gql,
          clock,
          ...(env.RECHECK_MISSING && lastPublished ? { recheck: lastPublished } : {}),
          publish: async (snapshots) => {
            await producer.send(catalog.streamSnapshots, snapshots);
            snapshotsPerPartition(snapshots).forEach((n, p) => (perPartition[p]! += n));
            metrics.snapshots.inc(snapshots.length);
            deps.onPublished?.({ snapshots });
          },
          onDropped: (reasons) => {
            metrics.dropped.inc(reasons.length);
            sweepLog.warn(
              { dropped: reasons.length, reasons: reasons.slice(0, 3) },
              "dropped invalid streams from a GQL answer",
            );
          },
          onPage: () => metrics.pages.inc(),
          onRetry: ({ shard, attempt, delayMs, error }) => {
            metrics.retries.inc({ kind: error.kind });
            sweepLog.warn(
              { shard, attempt, delayMs, kind: error.kind, err: error.message },
              "gql page failed; retrying",
            );
          },
          onDeadSegment: (info) =>
            sweepLog.warn(info, "a segment's start cursor did not answer; the segment before it covers its part"),
          onStepBack: (info) => {
            metrics.stepBacks.inc();
            sweepLog.debug(info, "the list was re-sorted under a segment; reading back");
          },
        },
        signal,
      );
      const marker = history.judge(result.marker, result.shards, env.TRACK_MIN_VIEWERS);
      // An incomplete sweep published only part of what is live: keep looking up the last one's streamers too.
      const published = new Set(result.published.keys());
      if (!result.marker.complete && lastPublished) for (const id of lastPublished) published.add(id);
      lastPublished = published;
      deps.onSweep?.({ sweepId, pages: result.pages, posts: result.posts, recheck: result.recheck });
      metrics.recheck.inc({ result: "published" }, result.recheck.published);
      metrics.recheck.inc(
        { result: "not_live" },
        result.recheck.asked - result.recheck.published - result.recheck.unanswered,
      );
      metrics.recheck.inc({ result: "unanswered" }, result.recheck.unanswered);
      // A shard that read nothing this time keeps its older cursors.
      for (const s of result.shards) if (s.marks.length > 0) lastPages.set(s.name, s.marks);
      sweepLog.debug(
        {
          pages: result.pages,
          posts: result.posts,
          shards: result.shards.map((s) => ({ name: s.name, count: s.count, pages: s.pages, segments: s.segments })),
        },
        "sweep shards",
      );
      metrics.duration.observe((performance.now() - realStart) / 1000);
      try {
        // One marker per snapshot partition, on that partition of the sweeps topic: the delay instance
        // owning a partition learns how many of the sweep's snapshots it must have handled there.
        await producer.send(catalog.sweeps, sweepMarkers(marker, perPartition));
        deps.onPublished?.({ marker });
        metrics.sweeps.inc({ complete: String(marker.complete) });
        state.sweeps++;
        state.lastMarkerAt = clock.now();
        sweepLog[marker.complete ? "info" : "warn"](
          { count: marker.count, complete: marker.complete, reason: marker.reason, recheck: result.recheck },
          "sweep done",
        );
      } catch (err) {
        // Without a marker the sweep is never taken as complete, which is the safe side.
        sweepLog.error({ err }, "could not publish the sweep marker");
      }
      // Only a complete sweep's pages and streamers are worth starting from (a sweep cut short by shutdown has few).
      if (result.marker.complete) {
        await saveCursors(producer, catalog, sweepId, clock.now(), lastPages, result.published).catch((err: unknown) =>
          sweepLog.warn({ err }, "could not save the sweep's cursors; a restart would page each shard as one chain"),
        );
      }
      const wait = begin + env.SWEEP_INTERVAL - clock.now();
      if (wait > 0) await sleep(clock.realDelay(wait), stopping.signal);
    }
  }

  async function stop(): Promise<void> {
    stopping.abort(new Error("shutdown"));
    await state.loop;
    await limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }

  state.loop = loop().catch((err: unknown) => {
    state.crashed = err ?? new Error("sweep loop died");
    log.fatal({ err }, "poller loop crashed");
    deps.onCrash?.(err);
  });
  return state;
}
