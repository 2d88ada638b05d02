import type { Admin } from "kafkajs";

/** Offsets at or after `at` for each partition; a partition with nothing that recent gets its end offset. */
export async function offsetsAt(admin: Admin, topic: string, at: Date): Promise<Map<number, string>> {
  const [byTime, ends] = await Promise.all([
    admin.fetchTopicOffsetsByTimestamp(topic, at.getTime()),
    admin.fetchTopicOffsets(topic),
  ]);
  const high = new Map(ends.map((e) => [e.partition, e.high]));
  return new Map(byTime.map((e) => [e.partition, e.offset === "-1" ? (high.get(e.partition) ?? "0") : e.offset]));
}

/** A read-only group name for one look at a topic: it commits nothing and is never reused. */
export const readerGroup = (topic: string) => `vods-reader-${topic}-${Date.now()}-${process.pid}`;
