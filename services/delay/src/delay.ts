import { sleep, withDeadline } from "@vod/backoff";
import { AssignerProtocol, type Kafka } from "kafkajs";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import {
  createCatalog,
  createFencedProducer,
  delayState,
  encodeMessages,
  FencedError,
  delayStatePartition,
  parseValue,
  readRange,
  runConsumer,
  subscribe,
  vodFetchRequest,
  type Assignment,
  type FencedProducer,
  type Message,
  type OutgoingPart,
  type RunningConsumer,
  type TypedProducer,
  type VodFetchRequest,
} from "@vod/kafka";
import type { Logger } from "@vod/log";
import { consumerMetrics } from "@vod/service";
import type { DelayEnv } from "./env.ts";
import { Tracker } from "./tracker.ts";

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

/** One snapshot partition this instance owns: its tracker, and whether its state is restored yet. */
interface Owned {
  partition: number;
  /** Replaced by a fresh one when a restore is retried: a half-read state must not be read into twice. */
  tracker: Tracker;
  /** Resolves once the partition's state is restored and its recent releases reconciled. */
  ready: Promise<void>;
  restored: boolean;
  /**
   * Writes this partition's state records and releases, in transactions under an id of its own:
   * claimed before the state is restored, it fences whoever owned the partition before, so nothing
   * they still had in flight becomes visible after the restore read. A release and the records saying
   * it happened are one transaction: the restore sees both or neither.
   */
  releaser?: FencedProducer;
  /** Clock time since which this partition's due releases have waited for its inputs to catch up. */
  blockedSince?: number;
  /** Clock time since which its due releases have been held because the coordinator did not confirm the partition as ours. */
  heldSince?: number;
  /** Real time (performance.now) since which its releases have failed, kept across the restores that follow. */
  failingSince?: number;
}

class Revoked extends Error {
  constructor(partition: number) {
    super(`partition ${partition} is no longer assigned to this instance`);
  }
}

/**
 * The delay, partitioned as Kafka Streams partitions a task's state: the snapshots, the sweep markers
 * (one per snapshot partition), the fetch requests and results and the state topic are
 * co-partitioned, and the group's assigner gives a member the same partition numbers of all of
 * them. Each owned partition has its own tracker, restored from that partition of the state topic
 * (and reconciled with that partition of the fetch requests) before its messages are handled, and
 * dropped when the partition is revoked. Every state change is in the state topic before the input
 * offsets that caused it are committed; a release is marked in the state topic right after its
 * fetch request is acknowledged.
 */
export async function startDelay(env: DelayEnv, deps: DelayDeps): Promise<RunningDelay> {
  const { kafka, producer, clock, log, registry, onFatal } = deps;
  const makeReleaser = deps.releaser ?? ((id: string) => createFencedProducer(kafka, log, id));
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
  const metrics = {
    released: new Counter({ name: "delay_releases_total", help: "Fetch requests published", registers: [registry] }),
    reconciled: new Counter({
      name: "delay_releases_recovered_total",
      help: "Releases found already sent at restore (a crash or a handover came between send and state)",
      registers: [registry],
    }),
    lateness: new Gauge({
      name: "delay_last_release_lateness_seconds",
      help: "Clock seconds between release time and publication, last batch",
      registers: [registry],
    }),
    tracked: new Gauge({
      name: "delay_vods",
      help: "Tracked VODs by status",
      labelNames: ["status"],
      registers: [registry],
    }),
    oldestWaiting: new Gauge({
      name: "delay_oldest_waiting_seconds",
      help: "Clock seconds since the oldest ended, unreleased VOD ended",
      registers: [registry],
    }),
    events: new Gauge({
      name: "delay_events",
      help: "Tracker counters of the owned partitions (stale, revived, ended, sweeps)",
      labelNames: ["event"],
      registers: [registry],
    }),
    stateRecords: new Counter({
      name: "delay_state_records_total",
      help: "Records and tombstones written to the state topic",
      registers: [registry],
    }),
    partitions: new Gauge({
      name: "delay_partitions",
      help: "Snapshot partitions owned by this instance, by state",
      labelNames: ["state"],
      registers: [registry],
    }),
    restores: new Counter({
      name: "delay_partition_restores_total",
      help: "Partitions whose state was restored (at start and after each rebalance that moved them here)",
      registers: [registry],
    }),
  };

  // One change at a time: consumer handlers and the release loop share the trackers.
  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };

  const owned = new Map<number, Owned>();
  /** This member's id at the last join; a different one means the group went on without it meanwhile. */
  let memberId: string | undefined;
  /** From a revocation to the next assignment: nothing is released (the partitions may be another member's). */
  let suspended = true;
  let restores = 0;
  let stateRecords = 0;
  const stopping = new AbortController();
  let dead: string | undefined;
  function die(reason: string, err?: unknown): void {
    if (dead !== undefined || stopping.signal.aborted) return;
    dead = reason;
    log.fatal({ err, reason }, "delay cannot go on; exiting so it is restarted");
    onFatal?.(reason, err);
  }

  /**
   * Writes the partition's changed records. With `releases`, in one transaction of the partition's own
   * producer together with them: a release and the records saying it happened (its "ended" record
   * too, when it ended in the same tick) become visible together or not at all. Without, through the
   * shared idempotent producer: a transaction per handled batch would cost each partition a
   * round trip to the coordinator and a wait for the previous transaction's markers.
   */
  async function flush(o: Owned, releases?: OutgoingPart): Promise<void> {
    const changes = o.tracker.changes();
    const parts: OutgoingPart[] = [];
    // Encoded in slices, yielding between them: a first sweep creates 100,000 records.
    for (let i = 0; i < changes.records.length; i += FLUSH_SLICE) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      parts.push(encodeMessages(catalog.delayState, changes.records.slice(i, i + FLUSH_SLICE)));
    }
    if (changes.tombstones.length > 0)
      parts.push({
        topic: catalog.delayState.name,
        messages: changes.tombstones.map((key) => ({ key, value: null, partition: o.partition })),
      });
    if (releases) {
      if (!o.releaser) throw new Revoked(o.partition);
      await withDeadline(o.releaser.sendParts([...parts, releases]), env.SEND_TIMEOUT, "release transaction");
    } else {
      for (const part of parts)
        await withDeadline(producer.sendRaw(part.topic, part.messages), env.SEND_TIMEOUT, "state records");
    }
    o.tracker.flushed(changes);
    const n = changes.records.length + changes.tombstones.length;
    stateRecords += n;
    metrics.stateRecords.inc(n);
  }

  /**
   * Releases a partition's due VODs. A failed transaction leaves its fate to the broker (a commit can
   * time out and still land) and may leave the producer unusable (fenced, or a transaction still open
   * after a deadline), while the tracker has marked them released: the tracker is dropped and the
   * partition restored from what is committed, under a new producer whose claim settles the transaction.
   */
  async function releaseOrReclaim(o: Owned, releases: OutgoingPart): Promise<void> {
    try {
      await flush(o, releases);
    } catch (err) {
      // Before the reclaim, which hands it on: the restores that follow do not reset it, a release does.
      o.failingSince ??= performance.now();
      if (owned.get(o.partition) === o) {
        log.warn(
          { err, partition: o.partition, fenced: err instanceof FencedError },
          "releasing failed; restoring the partition from what is committed, once confirmed as ours",
        );
        reclaim(o);
      }
      throw err;
    }
  }

  /**
   * Restores the given partitions' state (those partitions of the state topic only), then marks as
   * released the VODs whose fetch request is among those partitions' last RECONCILE_LAST (sent just
   * before a crash or a handover, before its "released" record was written).
   */
  async function restore(parts: Owned[]): Promise<void> {
    const byPartition = new Map(parts.map((o) => [o.partition, o]));
    const current = () => parts.filter((o) => owned.get(o.partition) === o);
    const started = performance.now();
    // Only partitions still ours: a claim of one the group has given to another member would fence that member.
    for (const o of current()) {
      o.releaser ??= await makeReleaser(releaserId(o.partition));
      await o.releaser.claim();
    }
    let misplaced = 0;
    // Unique per read: two instances restoring at once must not share (and split) one reading group.
    const readGroup = (what: string) =>
      `${env.GROUP_ID}.${what}.${memberId ?? "none"}.${Math.random().toString(36).slice(2, 8)}`;
    const records = await readRange(
      {
        kafka,
        topic: catalog.delayState.name,
        groupId: readGroup("restore"),
        from: (p, low, high) => (byPartition.has(p) ? low : high),
        log,
      },
      (messages, partition) => {
        const o = byPartition.get(partition);
        if (!o) return;
        for (const m of messages) {
          const key = m.key?.toString() ?? "";
          if (m.value === null) {
            o.tracker.restore(key, null);
            continue;
          }
          const parsed = parseValue(delayState, m.value);
          if (!parsed.success) {
            log.error({ key, partition, err: parsed.error.message }, "unreadable state record ignored");
            continue;
          }
          // A record of another partition's streamer (written by the unpartitioned layout) is not this partition's.
          if (delayStatePartition(parsed.data) !== partition) {
            misplaced++;
            continue;
          }
          o.tracker.restore(key, parsed.data);
        }
      },
    );
    for (const o of parts) o.tracker.restored();
    let recovered = 0;
    if (env.RECONCILE_LAST > 0) {
      await readRange(
        {
          kafka,
          topic: catalog.vodFetchRequests.name,
          groupId: readGroup("reconcile"),
          from: (p, _low, high) => (byPartition.has(p) ? high - BigInt(env.RECONCILE_LAST) : high),
          log,
        },
        (messages, partition) => {
          const o = byPartition.get(partition);
          if (!o) return;
          for (const m of messages) {
            if (m.value === null) continue;
            const parsed = parseValue(vodFetchRequest, m.value);
            if (!parsed.success) continue;
            if (o.tracker.reconcileRelease(parsed.data, clock.now())) recovered++;
          }
        },
      );
    }
    metrics.reconciled.inc(recovered);
    if (log.isLevelEnabled("debug"))
      for (const o of parts)
        log.debug(
          {
            partition: o.partition,
            vods: [...o.tracker.vods].map(([k, v]) => `${k} ${v.status} ${v.lastSeen} ${v.releaseAt ?? ""}`),
            released: o.tracker.releasedCount,
          },
          "partition state after restore",
        );
    // Written back at once: the reconciled marks, and the restored trackers' progress.
    for (const o of current()) await locked(() => flush(o));
    for (const o of parts) o.restored = true;
    restores += parts.length;
    metrics.restores.inc(parts.length);
    if (misplaced > 0)
      log.warn(
        { misplaced },
        "state records of other partitions' streamers ignored (written by the unpartitioned layout)",
      );
    log.info(
      {
        partitions: parts.map((o) => o.partition),
        records,
        vods: parts.reduce((n, o) => n + o.tracker.vods.size, 0),
        recovered,
        ms: Math.round(performance.now() - started),
      },
      "partitions restored",
    );
  }

  /**
   * Restores until it succeeds or the partitions are no longer ours; each attempt from empty trackers
   * and new producers. Failing for RELEASE_FAILURE_LIMIT is fatal: the partitions' releases wait meanwhile.
   */
  async function restoreRetrying(all: Owned[]): Promise<void> {
    const since = performance.now();
    for (let attempt = 0; ; attempt++) {
      const parts = all.filter((o) => owned.get(o.partition) === o);
      if (stopping.signal.aborted || parts.length === 0) return;
      try {
        return await restore(parts);
      } catch (err) {
        log.error({ err, partitions: parts.map((o) => o.partition), attempt }, "restoring partitions failed; retrying");
        if (performance.now() - since >= env.RELEASE_FAILURE_LIMIT) return die("restoring partitions failing", err);
        for (const o of parts) {
          dropReleaser(o);
          o.tracker = new Tracker({ ...trackerOptions, partition: o.partition });
        }
        await sleep(Math.min(30_000, 500 * 2 ** attempt), stopping.signal);
      }
    }
  }

  /** One transactional id per partition of the group: every member that owns partition n sends under the same one. */
  const releaserId = (partition: number) => `${env.GROUP_ID}.${catalog.vodFetchRequests.name}.${partition}`;
  function dropReleaser(o: Owned): void {
    const r = o.releaser;
    o.releaser = undefined;
    r?.disconnect().catch((err: unknown) =>
      log.warn({ err, partition: o.partition }, "closing a partition's release producer failed"),
    );
  }

  /** A partition owned from now on, with an empty tracker until its state is restored. */
  function takeOwnership(partition: number): Owned {
    const o: Owned = {
      partition,
      tracker: new Tracker({ ...trackerOptions, partition }),
      ready: Promise.resolve(),
      restored: false,
    };
    owned.set(partition, o);
    return o;
  }

  /**
   * After this member's claim on a partition was taken over: if the group's coordinator still lists the
   * partition as this member's, claims it back (fencing the other) and restores its state again, since
   * the other may have changed it; until then the partition's messages wait. A rebalance that moves the
   * partition away ends the wait.
   */
  function reclaim(o: Owned): void {
    dropReleaser(o);
    const again = takeOwnership(o.partition);
    if (o.failingSince !== undefined) again.failingSince = o.failingSince;
    again.ready = (async () => {
      while (!stopping.signal.aborted && owned.get(again.partition) === again) {
        const confirmed = await confirmedOwned().catch(() => new Set<number>());
        if (confirmed.has(again.partition)) return restoreRetrying([again]);
        await sleep(1_000, stopping.signal);
      }
    })();
  }

  function onRevoke(reason: string): void {
    suspended = true;
    log.info({ reason, partitions: [...owned.keys()] }, "partitions may be revoked; releases paused");
  }

  function onAssign(assignment: Assignment): void {
    const mine = new Set(Object.values(assignment.partitions).flat());
    // Kept only while the membership went on without a gap: with a new member id, another member may
    // have owned (and changed) the partition meanwhile.
    const continuous = assignment.memberId === memberId;
    memberId = assignment.memberId;
    for (const p of [...owned.keys()]) {
      if (continuous && mine.has(p)) continue;
      // Not flushed here: each change was flushed when it was made, and the new owner may already be reading.
      dropReleaser(owned.get(p)!);
      owned.delete(p);
    }
    const fresh: Owned[] = [];
    for (const p of [...mine].sort((a, b) => a - b)) {
      if (owned.has(p)) continue;
      const o = takeOwnership(p);
      fresh.push(o);
    }
    if (fresh.length > 0) {
      const ready = restoreRetrying(fresh);
      for (const o of fresh) o.ready = ready;
    }
    suspended = false;
    log.info(
      { memberId, partitions: [...owned.keys()], restoring: fresh.map((o) => o.partition) },
      "partitions assigned",
    );
  }

  /** The partition's tracker, once restored; throws (the batch is retried) if it is not ours. */
  async function ownedFor(partition: number): Promise<Owned> {
    const o = owned.get(partition);
    if (!o) throw new Revoked(partition);
    await o.ready;
    if (owned.get(partition) !== o || !o.restored) throw new Revoked(partition);
    return o;
  }

  /** Handles one partition's batch with its tracker, and flushes before the offsets are committed. */
  function handle<T>(apply: (tracker: Tracker, messages: Message<T>[]) => void) {
    return async (messages: Message<T>[]) => {
      const partition = messages[0]!.partition;
      const o = await ownedFor(partition);
      await locked(async () => {
        if (owned.get(partition) !== o) throw new Revoked(partition);
        apply(o.tracker, messages);
        await flush(o);
      });
    };
  }

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
    copartitioned: true,
    onAssign,
    onRevoke,
    subscriptions: [
      subscribe(catalog.streamSnapshots, {
        eachBatch: handle((tracker, messages) => {
          for (const m of messages) tracker.applySnapshot(m.value);
          tracker.evaluate(false);
        }),
      }),
      subscribe(catalog.sweeps, {
        eachBatch: handle((tracker, messages) => {
          for (const m of messages) tracker.addMarker(m.value, clock.now());
          tracker.evaluate(false);
        }),
      }),
      // `live` outcomes: the stream had not ended when it was fetched; tracked again until its real end.
      subscribe(catalog.vodFetchResults, {
        eachBatch: handle((tracker, messages) => {
          for (const m of messages) tracker.applyResult(m.value);
        }),
      }),
    ],
  });

  const admin = kafka.admin();
  await admin.connect();
  const inputs = [catalog.streamSnapshots.name, catalog.sweeps.name];
  /** The partitions whose inputs this group has committed up to what the topics held a moment ago. */
  async function caughtUp(partitions: number[]): Promise<Set<number>> {
    const highs = await Promise.all(inputs.map((t) => admin.fetchTopicOffsets(t)));
    const committed = await admin.fetchOffsets({ groupId: env.GROUP_ID, topics: inputs });
    const done = new Set(partitions);
    inputs.forEach((topic, i) => {
      const at = new Map(
        (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
      );
      for (const p of highs[i] ?? []) {
        if (!done.has(p.partition)) continue;
        if (BigInt(p.high) > BigInt(p.low) && (at.get(p.partition) ?? -1n) < BigInt(p.high)) done.delete(p.partition);
      }
    });
    return done;
  }

  /**
   * The partitions the coordinator says this member owns in a stable group. Asked right before
   * releasing: a member that was dropped from the group (a long pause) learns it only at its next
   * heartbeat, and must not release what its successor has restored.
   */
  async function confirmedOwned(): Promise<Set<number>> {
    const { groups } = await admin.describeGroups([env.GROUP_ID]);
    const group = groups[0];
    const me = group?.state === "Stable" ? group.members.find((m) => m.memberId === memberId) : undefined;
    if (!me) return new Set();
    const assignment = AssignerProtocol.MemberAssignment.decode(me.memberAssignment)?.assignment ?? {};
    return new Set(assignment[catalog.streamSnapshots.name] ?? []);
  }

  // kafkajs gives up on a consumer after non-retriable errors; nothing would be consumed again.
  // A tick that hangs (a send past every timeout) or partitions whose releases keep failing are fatal
  // as well: measured as time since the last good tick, not as failures counted.
  let lastGoodTick = performance.now();
  const watchdog = setInterval(
    () => {
      if (!consumer.healthy()) return die("consumer stopped");
      const now = performance.now();
      if (now - lastGoodTick >= env.RELEASE_FAILURE_LIMIT)
        return die(`release loop without a good tick for ${Math.round(now - lastGoodTick)} ms`);
      for (const o of owned.values())
        if (o.failingSince !== undefined && now - o.failingSince >= env.RELEASE_FAILURE_LIMIT)
          return die(`releases of partition ${o.partition} failing for ${Math.round(now - o.failingSince)} ms`);
    },
    Math.min(1_000, env.RELEASE_FAILURE_LIMIT / 4),
  );
  watchdog.unref();
  let lastCaughtUpCheck = 0;
  let lastPrune = 0;

  /** Restored partitions that may act now. */
  const active = (): Owned[] => (suspended ? [] : [...owned.values()].filter((o) => o.restored));

  function nextReleaseAt(): number | undefined {
    let next: number | undefined;
    for (const o of active()) {
      const at = o.tracker.nextReleaseAt();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  async function releaseTick(): Promise<void> {
    const now = clock.now();
    const parts = active();
    const dueNow = parts.some((o) => (o.tracker.nextReleaseAt() ?? Infinity) <= now);
    const checkPending =
      parts.some((o) => o.tracker.pendingSweeps > 0) && performance.now() - lastCaughtUpCheck > 1_000;
    if (!dueNow && !checkPending) return;
    lastCaughtUpCheck = performance.now();
    const upToDate = await caughtUp(parts.map((o) => o.partition));
    const releasing: Owned[] = [];
    for (const o of parts) {
      const fresh = upToDate.has(o.partition);
      o.tracker.evaluate(fresh);
      // Releases wait until the inputs are handled, so one due earlier but not yet seen ended goes first.
      const head = o.tracker.nextReleaseAt();
      if (head === undefined || head > now) {
        o.blockedSince = undefined;
        continue;
      }
      if (!fresh) o.blockedSince ??= now;
      // Inputs that never settle (a poller publishing without pause) must not hold releases for ever.
      const waitedEnough = o.blockedSince !== undefined && now - o.blockedSince >= env.MAX_ORDER_WAIT;
      if (fresh || waitedEnough) {
        if (!fresh)
          log.warn(
            { partition: o.partition, waitedMs: now - o.blockedSince! },
            "releasing before the inputs caught up",
          );
        o.blockedSince = undefined;
        releasing.push(o);
      }
    }
    if (releasing.length > 0) {
      const confirmed = await confirmedOwned();
      const sent: VodFetchRequest[] = [];
      for (const o of releasing) {
        // Revoked, or not confirmed by the coordinator: the partition may be another member's now.
        if (suspended || owned.get(o.partition) !== o || !confirmed.has(o.partition) || !o.releaser) {
          // Once per hold, not at every poll of a rebalance.
          if (o.heldSince === undefined) {
            o.heldSince = now;
            log.warn(
              { partition: o.partition, suspended, owned: owned.get(o.partition) === o, confirmed: [...confirmed] },
              "due releases held: the partition is not confirmed as this member's",
            );
          }
          continue;
        }
        if (o.heldSince !== undefined)
          log.info({ partition: o.partition, heldMs: now - o.heldSince }, "due releases no longer held");
        o.heldSince = undefined;
        const due = o.tracker.due(now);
        if (due.length === 0) continue;
        // The releases and the records saying they happened (with every other pending change of the
        // partition) in one transaction: a crash or a handover at any step leaves both or neither.
        for (const d of due) o.tracker.markReleased(d.key, now);
        try {
          await releaseOrReclaim(
            o,
            encodeMessages(
              catalog.vodFetchRequests,
              due.map((d) => d.request),
            ),
          );
          o.failingSince = undefined;
        } catch {
          // Reclaimed: whether the releases became visible is settled by claiming the id again, and the
          // restore reads what is committed. Its trackers' marks are dropped with it.
          continue;
        }
        sent.push(...due.map((d) => d.request));
        log.debug({ partition: o.partition, keys: due.map((d) => d.key) }, "released");
      }
      if (sent.length > 0) {
        metrics.released.inc(sent.length);
        const last = sent.reduce((a, b) => (Date.parse(b.releaseAt) > Date.parse(a.releaseAt) ? b : a));
        metrics.lateness.set((now - Date.parse(last.releaseAt)) / 1000);
        log.info(
          { count: sent.length, partitions: releasing.map((o) => o.partition), last: last.releaseAt },
          "released VODs",
        );
      }
    }
    for (const o of parts) if (owned.get(o.partition) === o) await flush(o);
  }

  function sumCounters(trackers: Iterable<Tracker>): Tracker["counters"] {
    const sum = { ...new Tracker(trackerOptions).counters };
    for (const t of trackers) for (const [k, n] of Object.entries(t.counters)) sum[k as keyof typeof sum] += n;
    return sum;
  }

  function updateGauges(): void {
    const by = { live: 0, ended: 0, released: 0 };
    let oldestEnd = Infinity;
    for (const o of owned.values()) {
      by.released += o.tracker.releasedCount;
      for (const v of o.tracker.vods.values()) {
        by[v.status]++;
        if (v.status === "ended" && v.endedAt) oldestEnd = Math.min(oldestEnd, Date.parse(v.endedAt));
      }
    }
    metrics.oldestWaiting.set(Number.isFinite(oldestEnd) ? Math.max(0, (clock.now() - oldestEnd) / 1000) : 0);
    for (const [status, n] of Object.entries(by)) metrics.tracked.set({ status }, n);
    for (const [event, n] of Object.entries(sumCounters([...owned.values()].map((o) => o.tracker))))
      metrics.events.set({ event }, n);
    const restored = [...owned.values()].filter((o) => o.restored).length;
    metrics.partitions.set({ state: "restored" }, restored);
    metrics.partitions.set({ state: "restoring" }, owned.size - restored);
  }

  const loop = (async () => {
    while (!stopping.signal.aborted && dead === undefined) {
      try {
        await withDeadline(
          locked(async () => {
            if (performance.now() - lastPrune > 60_000) {
              lastPrune = performance.now();
              for (const o of active()) o.tracker.prune(clock.now());
              updateGauges();
            }
            await releaseTick();
          }),
          env.RELEASE_TICK_TIMEOUT,
          "release tick",
        );
        lastGoodTick = performance.now();
      } catch (err) {
        log.error({ err }, "release tick failed; retrying");
      }
      const next = nextReleaseAt();
      const untilNext = next === undefined ? Infinity : clock.realDelay(next - clock.now());
      await sleep(Math.max(5, Math.min(env.RELEASE_POLL, untilNext)), stopping.signal);
    }
  })();

  const restoredTrackers = () => new Map([...owned].filter(([, o]) => o.restored).map(([p, o]) => [p, o.tracker]));
  return {
    trackers: restoredTrackers,
    counters: () => sumCounters(restoredTrackers().values()),
    restores: () => restores,
    healthy: () => dead === undefined && consumer.healthy(),
    stateRecords: () => stateRecords,
    async stop() {
      stopping.abort();
      suspended = true;
      clearInterval(watchdog);
      await loop;
      const bounded = (work: Promise<unknown>, what: string) =>
        withDeadline(work, env.SEND_TIMEOUT, what).catch((err: unknown) => log.error({ err }, `${what} failed`));
      // Flushed before leaving the group: the next owner restores from what is written. Not after a fatal
      // failure: the flush would wait behind whatever hung, and what is committed is what the next owner reads.
      if (dead === undefined)
        await bounded(
          locked(async () => {
            for (const o of owned.values()) if (o.restored) await flush(o);
          }),
          "final state flush",
        );
      // A batch in hand finishes (and flushes) before the group is left; nothing is written after that,
      // when the partitions may already be another member's.
      await bounded(consumer.stop(), "stopping the consumer");
      for (const o of owned.values()) dropReleaser(o);
      owned.clear();
      await admin.disconnect();
    },
  };
}
