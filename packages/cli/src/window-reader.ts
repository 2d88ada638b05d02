import type { Admin, Kafka, KafkaMessage } from "kafkajs";

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  start: string;
  /** First offset not to read. */
  end: string;
}

/** Offsets at or after `at` for each partition; a partition with nothing that recent gets its end offset. */
export async function offsetsAt(admin: Admin, topic: string, at: Date): Promise<Map<number, string>> {
  const [byTime, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, at.getTime()), admin.fetchTopicOffsets(topic)]);
  const high = new Map(ends.map((e) => [e.partition, e.high]));
  return new Map(byTime.map((e) => [e.partition, e.offset === "-1" ? (high.get(e.partition) ?? "0") : e.offset]));
}

/**
 * Reads the messages of each partition range once, with a throwaway group that commits nothing,
 * and returns when every range has been read.
 */
export async function readRanges(
  kafka: Kafka,
  topic: string,
  ranges: PartitionRange[],
  onMessages: (partition: number, messages: KafkaMessage[]) => Promise<void>,
): Promise<void> {
  const todo = ranges.filter((r) => BigInt(r.end) > BigInt(r.start));
  if (todo.length === 0) return;
  const remaining = new Map(todo.map((r) => [r.partition, BigInt(r.end)]));
  const consumer = kafka.consumer({ groupId: `vods-reader-${topic}-${Date.now()}-${process.pid}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const r of todo) consumer.seek({ topic, partition: r.partition, offset: r.start });
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = remaining.get(batch.partition);
            if (end === undefined) return;
            const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
            // A failing callback ends the read; kafkajs would otherwise retry the batch forever.
            if (inRange.length > 0) await onMessages(batch.partition, inRange).catch((err: unknown) => void reject(err));
            const last = batch.messages[batch.messages.length - 1];
            if (last && BigInt(last.offset) + 1n >= end) remaining.delete(batch.partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}
