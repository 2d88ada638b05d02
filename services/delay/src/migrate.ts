import type { Kafka } from "kafkajs";
import {
  delayState,
  delayStatePartition,
  parseValue,
  readRange,
  STREAM_PARTITIONS,
  type Catalog,
  type DelayState,
  type TypedProducer,
} from "@vod/kafka";
import type { Logger } from "@vod/log";

/**
 * Moves the state records written by the unpartitioned layout (placed by the hash of their own key)
 * to their streamer's partition, and tombstones them where they were. The progress record becomes
 * one per partition; pending sweeps of version-1 markers are dropped (never evidence of an end).
 * Run by one instance before it joins the group, with every other delay stopped; running it again
 * moves nothing.
 */
export async function migrateState(
  kafka: Kafka,
  producer: TypedProducer,
  catalog: Catalog,
  groupId: string,
  log: Logger,
): Promise<{ moved: number; dropped: number }> {
  /** The last record of each key in each partition, in reading order. */
  const last = new Map<string, Map<number, Buffer | null>>();
  await readRange(
    {
      kafka,
      topic: catalog.delayState.name,
      groupId: `${groupId}.migrate.${Math.random().toString(36).slice(2, 8)}`,
      from: (_p, low) => low,
      log,
    },
    (messages, partition) => {
      for (const m of messages) {
        const key = m.key?.toString() ?? "";
        let byPartition = last.get(key);
        if (!byPartition) last.set(key, (byPartition = new Map()));
        byPartition.set(partition, m.value);
      }
    },
  );
  const moves: DelayState[] = [];
  const tombstones: { key: string; value: null; partition: number }[] = [];
  let progress = 0;
  let dropped = 0;
  for (const [key, byPartition] of last) {
    for (const [partition, value] of byPartition) {
      if (value === null) continue;
      const parsed = parseValue(delayState, value);
      const record = parsed.success ? parsed.data : undefined;
      const home = record ? delayStatePartition(record) : undefined;
      if (home === partition) continue;
      tombstones.push({ key, value: null, partition });
      if (!record) {
        dropped++;
        continue;
      }
      if (record.kind === "progress") progress = Math.max(progress, Date.parse(record.observedAt));
      // Moved unless its home partition already holds a newer record of the key.
      else if (home !== undefined && !byPartition.has(home)) moves.push(record);
    }
  }
  if (progress > 0) {
    for (let p = 0; p < STREAM_PARTITIONS; p++)
      moves.push({ v: 1, kind: "progress", observedAt: new Date(progress).toISOString(), partition: p });
  }
  // Written before the old copies are tombstoned: a crash in between leaves both, and a rerun finishes.
  for (let i = 0; i < moves.length; i += 2_000) await producer.send(catalog.delayState, moves.slice(i, i + 2_000));
  if (tombstones.length > 0) await producer.sendRaw(catalog.delayState.name, tombstones);
  log.info(
    { moved: moves.length, tombstoned: tombstones.length, dropped },
    "state records moved to their streamers' partitions",
  );
  return { moved: moves.length, dropped };
}
