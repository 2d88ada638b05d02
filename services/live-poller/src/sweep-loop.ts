import { sleep } from "@vod/backoff";
import type { Clock } from "@vod/clock";
import type { Logger } from "@vod/log";
import type { GqlBatchClient } from "@vod/twitch";
import type { PollerEnv } from "./env.ts";
import type { SweepHistory } from "./integrity.ts";
import type { LastSweep } from "./last-sweep.ts";
import { SweepPublisher, type PublisherDeps } from "./publisher.ts";
import { reportSweep, sweepHooks } from "./sweep-report.ts";
import { newSweepId, runSweep, type SweepOptions, type SweepResult } from "./sweep.ts";

export interface SweepLoopDeps extends PublisherDeps {
  clock: Clock;
  log: Logger;
  gql: GqlBatchClient;
  /** Second opinion on each sweep's marker. */
  history: SweepHistory;
  /** Where each sweep starts from; updated as each ends. */
  last: LastSweep;
  /** Called once if the loop dies. */
  onCrash?(err: unknown): void;
  /** Called after each sweep with what it cost and what the lookup by id added. */
  onSweep?(info: { sweepId: string; pages: number; posts: number; recheck: SweepResult["recheck"] }): void;
}

export interface SweepLoop {
  /** Ends the sweep in hand (marked incomplete if cut short) and stops. */
  stop(): Promise<void>;
  /** Sweep markers published so far. */
  sweeps: number;
  /** Clock time of the last published sweep marker (the start time until the first). */
  lastMarkerAt: number;
  /** Set when the sweep loop died. */
  crashed: unknown;
}

/** The sweep's options from the environment, with or without a last sweep to look up by id. */
function sweepOptions(env: PollerEnv, lookup: boolean): SweepOptions {
  return {
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
    driftMargin: lookup ? 0 : env.DRIFT_MARGIN,
  };
}

/** Sweeps every SWEEP_INTERVAL of clock time; a sweep that overruns is followed by the next at once. */
export function startSweepLoop(env: PollerEnv, deps: SweepLoopDeps): SweepLoop {
  const { producer, catalog, clock, log, metrics, history, last } = deps;
  const stopping = new AbortController();
  const state: SweepLoop & { loop?: Promise<void> } = {
    stop,
    sweeps: 0,
    lastMarkerAt: clock.now(),
    crashed: undefined,
  };

  async function sweep(begin: number): Promise<void> {
    const sweepId = newSweepId(begin);
    const sweepLog = log.child({ sweepId });
    const timeout = AbortSignal.timeout(Math.max(1, clock.realDelay(env.SWEEP_TIMEOUT)));
    const signal = AbortSignal.any([stopping.signal, timeout]);
    const realStart = performance.now();
    const publisher = new SweepPublisher(deps);
    const recheck = env.RECHECK_MISSING ? last.published : undefined;
    const plans = last.plan(env.SWEEP_SHARDS, { segmentPages: env.SEGMENT_PAGES, maxSegments: env.MAX_SEGMENTS });
    const result = await runSweep(
      sweepId,
      plans,
      sweepOptions(env, recheck !== undefined),
      {
        gql: deps.gql,
        clock,
        ...(recheck ? { recheck } : {}),
        publish: (snapshots) => publisher.snapshots(snapshots),
        ...sweepHooks(metrics, sweepLog),
      },
      signal,
    );
    const marker = history.judge(result.marker, result.shards, env.TRACK_MIN_VIEWERS);
    last.remember(result);
    deps.onSweep?.({ sweepId, pages: result.pages, posts: result.posts, recheck: result.recheck });
    reportSweep(result, metrics, sweepLog);
    metrics.duration.observe((performance.now() - realStart) / 1000);
    try {
      await publisher.marker(marker);
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
      await last
        .save(producer, catalog, sweepId, clock.now(), result.published)
        .catch((err: unknown) =>
          sweepLog.warn({ err }, "could not save the sweep's cursors; a restart would page each shard as one chain"),
        );
    }
  }

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      const begin = clock.now();
      await sweep(begin);
      const wait = begin + env.SWEEP_INTERVAL - clock.now();
      if (wait > 0) await sleep(clock.realDelay(wait), stopping.signal);
    }
  }

  async function stop(): Promise<void> {
    stopping.abort(new Error("shutdown"));
    await state.loop;
  }

  state.loop = loop().catch((err: unknown) => {
    state.crashed = err ?? new Error("sweep loop died");
    log.fatal({ err }, "poller loop crashed");
    deps.onCrash?.(err);
  });
  return state;
}
