import { sleep } from "@vod/backoff";
import type { Kafka } from "kafkajs";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import { createCatalog, delayState, parseValue, readRange, runConsumer, subscribe, vodFetchRequest, type RunningConsumer, type TypedProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { consumerMetrics } from "@vod/service";
import type { DelayEnv } from "./env.ts";
import { Tracker, vodKeyOf } from "./tracker.ts";

const FLUSH_SLICE = 2_000;

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
}

export interface RunningDelay {
  stop(): Promise<void>;
  /** False once the consumer or the release loop died (the process is about to exit non-zero). */
  healthy(): boolean;
  /** Records and tombstones written to the state topic since start. */
  stateRecords(): number;
  tracker: Tracker;
}

/**
 * Restores the tracker from the state topic, then consumes snapshots, sweep markers and fetch results
 * (`live` ones send a VOD back to tracking) and releases ended VODs when due. Every state change is in the state topic before the input offsets that caused
 * it are committed; a release is marked in the state topic right after its fetch request is acknowledged.
 */
export async function startDelay(env: DelayEnv, deps: DelayDeps): Promise<RunningDelay> {
  const { kafka, producer, clock, log, registry, onFatal } = deps;
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const tracker = new Tracker({
    endAfterMs: env.END_AFTER,
    muteIntervalMs: env.MUTE_INTERVAL,
    muteMinGapMs: env.MUTE_MIN_GAP,
    muteMarginMs: env.MUTE_MARGIN,
    recentSweeps: env.RECENT_SWEEPS,
    releasedRetentionMs: env.RELEASED_RETENTION,
    minViewers: env.MIN_VIEWERS,
  });
  const metrics = {
    released: new Counter({ name: "delay_releases_total", help: "Fetch requests published", registers: [registry] }),
    reconciled: new Counter({ name: "delay_releases_recovered_total", help: "Releases found already sent at start (a crash came between send and state)", registers: [registry] }),
    lateness: new Gauge({ name: "delay_last_release_lateness_seconds", help: "Clock seconds between release time and publication, last batch", registers: [registry] }),
    tracked: new Gauge({ name: "delay_vods", help: "Tracked VODs by status", labelNames: ["status"], registers: [registry] }),
    oldestWaiting: new Gauge({ name: "delay_oldest_waiting_seconds", help: "Clock seconds since the oldest ended, unreleased VOD ended", registers: [registry] }),
    events: new Gauge({ name: "delay_events", help: "Tracker counters since start (stale, revived, ended, sweeps)", labelNames: ["event"], registers: [registry] }),
    stateRecords: new Counter({ name: "delay_state_records_total", help: "Records and tombstones written to the state topic", registers: [registry] }),
  };

  // 1. State: the last record of every key in the compacted topic.
  const restored = await readRange(
    { kafka, topic: catalog.delayState.name, groupId: `${env.GROUP_ID}.restore`, from: (_p, low) => low, log },
    (messages) => {
      for (const m of messages) {
        const key = m.key?.toString() ?? "";
        if (m.value === null) {
          tracker.restore(key, null);
          continue;
        }
        const parsed = parseValue(delayState, m.value);
        if (parsed.success) tracker.restore(key, parsed.data);
        else log.error({ key, err: parsed.error.message }, "unreadable state record ignored");
      }
    },
  );

  tracker.restored();

  // 2. Releases sent just before a crash, whose state record did not make it.
  let recovered = 0;
  if (env.RECONCILE_LAST > 0) {
    await readRange(
      { kafka, topic: catalog.vodFetchRequests.name, groupId: `${env.GROUP_ID}.reconcile`, from: (_p, _low, high) => high - BigInt(env.RECONCILE_LAST), log },
      (messages) => {
        for (const m of messages) {
          if (m.value === null) continue;
          const parsed = parseValue(vodFetchRequest, m.value);
          if (!parsed.success) continue;
          const key = vodKeyOf(parsed.data.streamId, parsed.data.startTime);
          const vod = tracker.vods.get(key);
          // Only this ending's release: a VOD revived after an earlier release is released again.
          if (vod?.status === "ended" && vod.releaseAt === parsed.data.releaseAt) {
            tracker.markReleased(key, clock.now());
            recovered++;
          }
        }
      },
    );
  }
  metrics.reconciled.inc(recovered);
  log.info({ records: restored, vods: tracker.vods.size, pendingSweeps: tracker.pendingSweeps, recovered }, "state restored");

  // One change at a time: consumer handlers and the release loop share the tracker.
  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };

  let stateRecords = 0;
  async function flush(): Promise<void> {
    const changes = tracker.changes();
    // In slices: a first sweep creates 100,000 records, and one send would serialise them all at once.
    for (let i = 0; i < changes.records.length; i += FLUSH_SLICE) await producer.send(catalog.delayState, changes.records.slice(i, i + FLUSH_SLICE));
    if (changes.tombstones.length > 0) await producer.sendRaw(catalog.delayState.name, changes.tombstones.map((key) => ({ key, value: null })));
    tracker.flushed(changes);
    stateRecords += changes.records.length + changes.tombstones.length;
    metrics.stateRecords.inc(changes.records.length + changes.tombstones.length);
  }
  await locked(flush);

  const consumer: RunningConsumer = await runConsumer({
    kafka,
    producer,
    log,
    groupId: env.GROUP_ID,
    maxBatchSize: env.BATCH_MAX_MESSAGES,
    maxWaitMs: env.BATCH_MAX_WAIT,
    sessionTimeoutMs: env.SESSION_TIMEOUT,
    heartbeatIntervalMs: Math.max(500, Math.floor(env.SESSION_TIMEOUT / 5)),
    onBatch: consumerMetrics(registry),
    subscriptions: [
      subscribe(catalog.streamSnapshots, {
        eachBatch: (messages) =>
          locked(async () => {
            for (const m of messages) tracker.applySnapshot(m.value);
            tracker.evaluate(false);
            await flush();
          }),
      }),
      subscribe(catalog.sweeps, {
        eachBatch: (messages) =>
          locked(async () => {
            for (const m of messages) tracker.addMarker(m.value, clock.now());
            tracker.evaluate(false);
            await flush();
          }),
      }),
      // `live` outcomes: the stream had not ended when it was fetched; tracked again until its real end.
      subscribe(catalog.vodFetchResults, {
        eachBatch: (messages) =>
          locked(async () => {
            for (const m of messages) tracker.applyResult(m.value);
            await flush();
          }),
      }),
    ],
  });

  const admin = kafka.admin();
  await admin.connect();
  /** True when this group has committed everything the input topics held a moment ago. */
  async function caughtUp(): Promise<boolean> {
    const topics = [catalog.streamSnapshots.name, catalog.sweeps.name];
    const highs = await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)));
    const committed = await admin.fetchOffsets({ groupId: env.GROUP_ID, topics });
    return topics.every((topic, i) => {
      const done = new Map((committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      return (highs[i] ?? []).every((p) => BigInt(p.high) <= BigInt(p.low) || (done.get(p.partition) ?? -1n) >= BigInt(p.high));
    });
  }

  const stopping = new AbortController();
  let dead: string | undefined;
  function die(reason: string, err?: unknown): void {
    if (dead !== undefined || stopping.signal.aborted) return;
    dead = reason;
    log.fatal({ err, reason }, "delay cannot go on; exiting so it is restarted");
    onFatal?.(reason, err);
  }
  // kafkajs gives up on a consumer after non-retriable errors; nothing would be consumed again.
  const watchdog = setInterval(() => {
    if (!consumer.healthy()) die("consumer stopped");
  }, 1_000);
  watchdog.unref();
  let lastCaughtUpCheck = 0;
  let lastPrune = 0;
  /** Clock time since which due releases have waited for the inputs to catch up. */
  let blockedSince: number | undefined;

  async function releaseTick(): Promise<void> {
    const now = clock.now();
    const next = tracker.nextReleaseAt();
    const dueNow = next !== undefined && next <= now;
    const checkPending = tracker.pendingSweeps > 0 && performance.now() - lastCaughtUpCheck > 1_000;
    if (!dueNow && !checkPending) return;
    lastCaughtUpCheck = performance.now();
    const upToDate = await caughtUp();
    tracker.evaluate(upToDate);
    // Releases wait until the inputs are handled, so one due earlier but not yet seen ended goes first.
    const head = tracker.nextReleaseAt();
    if (head === undefined || head > now) blockedSince = undefined;
    else if (!upToDate) blockedSince ??= now;
    // Inputs that never settle (a poller publishing without pause) must not hold releases for ever.
    const waitedEnough = blockedSince !== undefined && now - blockedSince >= env.MAX_ORDER_WAIT;
    if (head !== undefined && head <= now && (upToDate || waitedEnough)) {
      if (!upToDate) log.warn({ waitedMs: now - blockedSince! }, "releasing before the inputs caught up");
      blockedSince = undefined;
      const due = tracker.due(now);
      await producer.send(catalog.vodFetchRequests, due.map((d) => d.request));
      for (const d of due) tracker.markReleased(d.key, now);
      metrics.released.inc(due.length);
      const last = due.at(-1);
      if (last) metrics.lateness.set((now - Date.parse(last.request.releaseAt)) / 1000);
      log.info({ count: due.length, first: due[0]?.request.releaseAt, last: last?.request.releaseAt }, "released VODs");
    }
    await flush();
  }

  function updateGauges(): void {
    const by = { live: 0, ended: 0, released: 0 };
    let oldestEnd = Infinity;
    for (const v of tracker.vods.values()) {
      by[v.status]++;
      if (v.status === "ended" && v.endedAt) oldestEnd = Math.min(oldestEnd, Date.parse(v.endedAt));
    }
    metrics.oldestWaiting.set(Number.isFinite(oldestEnd) ? Math.max(0, (clock.now() - oldestEnd) / 1000) : 0);
    for (const [status, n] of Object.entries(by)) metrics.tracked.set({ status }, n);
    for (const [event, n] of Object.entries(tracker.counters)) metrics.events.set({ event }, n);
  }

  const loop = (async () => {
    /** Real time since which every tick failed. */
    let failingSince: number | undefined;
    while (!stopping.signal.aborted && dead === undefined) {
      try {
        await locked(async () => {
          if (performance.now() - lastPrune > 60_000) {
            lastPrune = performance.now();
            tracker.prune(clock.now());
            updateGauges();
          }
          await releaseTick();
        });
        failingSince = undefined;
      } catch (err) {
        failingSince ??= performance.now();
        log.error({ err }, "release tick failed; retrying");
        if (performance.now() - failingSince >= env.RELEASE_FAILURE_LIMIT) {
          die("release loop failing", err);
          break;
        }
      }
      const next = tracker.nextReleaseAt();
      const untilNext = next === undefined ? Infinity : clock.realDelay(next - clock.now());
      await sleep(Math.max(5, Math.min(env.RELEASE_POLL, untilNext)), stopping.signal);
    }
  })();

  return {
    tracker,
    healthy: () => dead === undefined && consumer.healthy(),
    stateRecords: () => stateRecords,
    async stop() {
      stopping.abort();
      clearInterval(watchdog);
      await loop;
      await consumer.stop();
      await locked(flush).catch((err: unknown) => log.error({ err }, "final state flush failed"));
      await admin.disconnect();
    },
  };
}
