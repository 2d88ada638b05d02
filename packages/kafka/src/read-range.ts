import type { Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "@vod/log";

export interface RangeOptions {
  kafka: Kafka;
  topic: string;
  /** A group used only for reading; it never commits, so every read starts where `from` says. */
  groupId: string;
  /** First offset to read per partition, given its low and high watermarks. */
  from: (partition: number, low: bigint, high: bigint) => bigint;
  /** First offset not to read per partition; the high watermark when the read began by default. */
  to?: (partition: number, low: bigint, high: bigint) => bigint;
  log?: Logger;
  timeoutMs?: number;
}

/**
 * Reads every partition of a topic from `from` up to `to` (by default the high watermark it had
 * when the read began), then stops; commits nothing. For rebuilding state from a compacted topic,
 * looking back over recent output, and replaying a window.
 */
export async function readRange(
  options: RangeOptions,
  onMessages: (messages: KafkaMessage[], partition: number) => void | Promise<void>,
): Promise<number> {
  const { kafka, topic, groupId, from, to, log, timeoutMs = 120_000 } = options;
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; offset: string; high: string; low: string }[];
  try {
    // A topic created a moment ago may not have its leaders known yet everywhere.
    for (let attempt = 0; ; attempt++) {
      try {
        offsets = await admin.fetchTopicOffsets(topic);
        break;
      } catch (err) {
        if (attempt >= 20 || (err as { retriable?: boolean }).retriable === false) throw err;
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt + 1, 10)));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const targets = new Map<number, { start: bigint; high: bigint }>();
  for (const o of offsets) {
    const low = BigInt(o.low);
    const high = BigInt(o.high);
    const start = from(o.partition, low, high);
    const end = to ? to(o.partition, low, high) : high;
    const clamped = start < low ? low : start;
    const until = end > high ? high : end;
    if (clamped < until) targets.set(o.partition, { start: clamped, high: until });
  }
  if (targets.size === 0) return 0;

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const remaining = new Set(targets.keys());
  let count = 0;
  /** Per partition, the next offset not yet handed on. */
  const delivered = new Map<number, bigint>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      // A partition is read once a fetch reached its end. Told by the batch events, not by eachBatch: a
      // fetch holding only a transaction's marker or aborted records never reaches eachBatch, and the
      // last offset of a batch counts those records too.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const target = targets.get(payload.partition);
        if (!target || payload.topic !== topic || BigInt(payload.lastOffset) + 1n < target.high) return;
        remaining.delete(payload.partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const target = targets.get(batch.partition);
            if (!target) return;
            // The group starts fetching before the seeks below take effect, so a partition's first
            // messages can come twice: each offset is handed on once.
            const from = delivered.get(batch.partition) ?? target.start;
            const inRange = batch.messages.filter((m) => BigInt(m.offset) >= from && BigInt(m.offset) < target.high);
            try {
              if (inRange.length > 0) await onMessages(inRange, batch.partition);
            } catch (err) {
              clearTimeout(timer);
              reject(err as Error);
              return;
            }
            count += inRange.length;
            const lastInRange = inRange.at(-1);
            if (lastInRange) delivered.set(batch.partition, BigInt(lastInRange.offset) + 1n);
            // Without this the next fetch starts at the same offset again: a partition larger than one fetch never ends.
            if (!batch.isEmpty()) resolveOffset(batch.lastOffset());
          },
        })
        .then(() => {
          for (const [partition, t] of targets) consumer.seek({ topic, partition, offset: t.start.toString() });
          // Partitions outside the range start at their end: reading one partition does not fetch the others.
          for (const o of offsets)
            if (!targets.has(o.partition)) consumer.seek({ topic, partition: o.partition, offset: o.high });
        }, reject);
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  log?.info({ topic, messages: count }, "read topic range");
  return count;
}
