import { withDeadline } from "@vod/backoff";
import type { Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import { createCatalog, createFencedProducer, type FencedProducer, type TypedProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { DelayEnv } from "./env.ts";
import { GroupView } from "./group.ts";
import { consumeInputs } from "./inputs.ts";
import { createDelayMetrics, sumCounters } from "./metrics.ts";
import { Partitions } from "./partitions.ts";
import { ReleaseLoop } from "./release-loop.ts";
import { restorePartitions } from "./restore.ts";
import { StateWriter } from "./state-writer.ts";
import type { Tracker } from "./tracker.ts";
import { startWatchdog } from "./watchdog.ts";

export interface DelayDeps {
  kafka: Kafka;
  producer: TypedProducer;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /**
   * Called once when the release loop or the consumer has died: the caller exits non-zero so a
   * supervisor restarts the process. `healthy()` is false from that moment.
   */
  onFatal?: (reason: string, err?: unknown) => void;
  /** Makes the producer a partition's state and releases are sent with; `createFencedProducer` unless a test breaks it. */
  releaser?: (transactionalId: string) => Promise<FencedProducer>;
}

export interface RunningDelay {
  stop(): Promise<void>;
  /** False once the consumer or the release loop died (the process is about to exit non-zero). */
  healthy(): boolean;
  /** Records and tombstones written to the state topic since start. */
  stateRecords(): number;
  /** The trackers of the partitions this instance owns and has restored, by partition. */
  trackers(): ReadonlyMap<number, Tracker>;
  /** Tracker counters summed over the partitions owned now. */
  counters(): Tracker["counters"];
  /** Partitions restored since start (each assignment of a partition restores it once). */
  restores(): number;
}

/**
 * The delay, partitioned as Kafka Streams partitions a task's state: the snapshots, the sweep markers
 * (one per snapshot partition), the fetch requests and results and the state topic are
 * co-partitioned, and the group's assigner gives a member the same partition numbers of all of
 * them. Each owned partition has its own tracker, restored from that partition of the state topic
 * (and reconciled with that partition of the fetch requests) before its messages are handled, and
 * dropped when the partition is revoked. Every state change is in the state topic before the input
 * offsets that caused it are committed; a release and its state records are one transaction.
 *
 * The wiring: `Partitions` (ownership), `restorePartitions` (restore), `StateWriter` (state records
 * and release transactions), `consumeInputs` (the consumer), `ReleaseLoop` (releases), `GroupView`
 * (what the coordinator says), `startWatchdog` (when to give up).
 */
export async function startDelay(env: DelayEnv, deps: DelayDeps): Promise<RunningDelay> {
  const { kafka, producer, clock, log, registry, onFatal } = deps;
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const trackerOptions = {
    endAfterMs: env.END_AFTER,
    muteIntervalMs: env.MUTE_INTERVAL,
    muteMinGapMs: env.MUTE_MIN_GAP,
    muteMarginMs: env.MUTE_MARGIN,
    recentSweeps: env.RECENT_SWEEPS,
    releasedRetentionMs: env.RELEASED_RETENTION,
    minViewers: env.MIN_VIEWERS,
  };
  const metrics = createDelayMetrics(registry);

  // One change at a time: consumer handlers and the release loop share the trackers.
  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };

  const stopping = new AbortController();
  let dead: string | undefined;
  function die(reason: string, err?: unknown): void {
    if (dead !== undefined || stopping.signal.aborted) return;
    dead = reason;
    log.fatal({ err, reason }, "delay cannot go on; exiting so it is restarted");
    onFatal?.(reason, err);
  }

  const admin = kafka.admin();
  await admin.connect();
  const group = new GroupView(admin, env.GROUP_ID, catalog);
  const writer = new StateWriter(producer, catalog, env.SEND_TIMEOUT, metrics);
  const restoreDeps = {
    kafka,
    catalog,
    groupId: env.GROUP_ID,
    reconcileLast: env.RECONCILE_LAST,
    clock,
    log,
    metrics,
    writer,
    locked,
    makeReleaser: deps.releaser ?? ((id: string) => createFencedProducer(kafka, log, id)),
  };
  const partitions = new Partitions({
    log,
    stopping: stopping.signal,
    trackerOptions,
    failureLimitMs: env.RELEASE_FAILURE_LIMIT,
    die,
    restore: (parts, isOwned, memberId) => restorePartitions(restoreDeps, parts, isOwned, memberId),
    confirmedOwned: (memberId) => group.confirmedOwned(memberId),
  });

  const consumer = await consumeInputs({
    env,
    kafka,
    producer,
    clock,
    log,
    registry,
    catalog,
    partitions,
    writer,
    locked,
  });

  const loop = new ReleaseLoop({
    env,
    catalog,
    clock,
    log,
    metrics,
    partitions,
    group,
    writer,
    trackerOptions,
    locked,
    stopping: stopping.signal,
    dead: () => dead !== undefined,
  });

  const watchdog = startWatchdog({ limitMs: env.RELEASE_FAILURE_LIMIT, consumer, loop, partitions, die });

  const restoredTrackers = () =>
    new Map([...partitions.owned].filter(([, o]) => o.restored).map(([p, o]) => [p, o.tracker]));
  return {
    trackers: restoredTrackers,
    counters: () => sumCounters(restoredTrackers().values(), trackerOptions),
    restores: () => partitions.restores,
    healthy: () => dead === undefined && consumer.healthy(),
    stateRecords: () => writer.written,
    async stop() {
      stopping.abort();
      partitions.suspended = true;
      clearInterval(watchdog);
      await loop.done;
      const bounded = (work: Promise<unknown>, what: string) =>
        withDeadline(work, env.SEND_TIMEOUT, what).catch((err: unknown) => log.error({ err }, `${what} failed`));
      // Flushed before leaving the group: the next owner restores from what is written. Not after a fatal
      // failure: the flush would wait behind whatever hung, and what is committed is what the next owner reads.
      if (dead === undefined)
        await bounded(
          locked(async () => {
            for (const o of partitions.owned.values()) if (o.restored) await writer.flush(o);
          }),
          "final state flush",
        );
      // A batch in hand finishes (and flushes) before the group is left; nothing is written after that,
      // when the partitions may already be another member's.
      await bounded(consumer.stop(), "stopping the consumer");
      partitions.clear();
      await admin.disconnect();
    },
  };
}
