import type { Kafka } from "kafkajs";
import type { Clock } from "@vod/clock";
import {
  delayState,
  delayStatePartition,
  parseValue,
  readRange,
  vodFetchRequest,
  type Catalog,
  type FencedProducer,
} from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { DelayMetrics } from "./metrics.ts";
import type { Owned } from "./owned.ts";
import { releaserId } from "./releaser.ts";
import type { StateWriter } from "./state-writer.ts";

export interface RestoreDeps {
  kafka: Kafka;
  catalog: Catalog;
  groupId: string;
  /** Recent fetch requests read per partition, to recognise releases whose records trail them. */
  reconcileLast: number;
  clock: Clock;
  log: Logger;
  metrics: DelayMetrics;
  writer: StateWriter;
  /** Runs a change to the trackers alone (handlers and the release loop share them). */
  locked: <T>(work: () => Promise<T>) => Promise<T>;
  makeReleaser: (transactionalId: string) => Promise<FencedProducer>;
}

/**
 * Restores the given partitions' state (those partitions of the state topic only), then marks as
 * released the VODs whose fetch request is among those partitions' last RECONCILE_LAST (sent just
 * before a crash or a handover, before its "released" record was written). Each partition's id is
 * claimed first: whoever owned it before is fenced, and its open transaction settled, before the read.
 */
export async function restorePartitions(
  deps: RestoreDeps,
  parts: Owned[],
  isOwned: (o: Owned) => boolean,
  memberId: string | undefined,
): Promise<void> {
  const { kafka, catalog, log, metrics } = deps;
  const byPartition = new Map(parts.map((o) => [o.partition, o]));
  const current = () => parts.filter(isOwned);
  const started = performance.now();
  // Only partitions still ours: a claim of one the group has given to another member would fence that member.
  for (const o of current()) {
    o.releaser ??= await deps.makeReleaser(releaserId(deps.groupId, catalog.vodFetchRequests.name, o.partition));
    await o.releaser.claim();
  }
  let misplaced = 0;
  // Unique per read: two instances restoring at once must not share (and split) one reading group.
  const readGroup = (what: string) =>
    `${deps.groupId}.${what}.${memberId ?? "none"}.${Math.random().toString(36).slice(2, 8)}`;
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
  const recovered = await reconcile(deps, byPartition, readGroup("reconcile"));
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
  for (const o of current()) await deps.locked(() => deps.writer.flush(o));
  for (const o of parts) o.restored = true;
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

/** Marks released the restored VODs whose fetch request is among their partition's recent ones; returns how many changed. */
async function reconcile(deps: RestoreDeps, byPartition: Map<number, Owned>, groupId: string): Promise<number> {
  if (deps.reconcileLast <= 0) return 0;
  let recovered = 0;
  await readRange(
    {
      kafka: deps.kafka,
      topic: deps.catalog.vodFetchRequests.name,
      groupId,
      from: (p, _low, high) => (byPartition.has(p) ? high - BigInt(deps.reconcileLast) : high),
      log: deps.log,
    },
    (messages, partition) => {
      const o = byPartition.get(partition);
      if (!o) return;
      for (const m of messages) {
        if (m.value === null) continue;
        const parsed = parseValue(vodFetchRequest, m.value);
        if (!parsed.success) continue;
        if (o.tracker.reconcileRelease(parsed.data, deps.clock.now())) recovered++;
      }
    },
  );
  return recovered;
}
