import { Partitioners, type PartitionMetadata } from "kafkajs";

/**
 * Partitions of every topic keyed by streamer id that the delay reads or writes. They must be equal
 * (co-partitioned): a streamer's snapshots, sweep markers' share, fetch requests, fetch results and
 * the delay's state records then sit at the same partition number, and one instance owns them all.
 */
export const STREAM_PARTITIONS = 6;

const defaultPartitioner = Partitioners.DefaultPartitioner();
const metadataCache = new Map<number, PartitionMetadata[]>();

/**
 * The partition the producer's default partitioner (murmur2, as the Java client) gives `key` in a
 * topic of `partitions` partitions. Asked of kafkajs itself, so it cannot drift from what the
 * producer does with a keyed message.
 */
export function partitionOf(key: string, partitions: number = STREAM_PARTITIONS): number {
  let metadata = metadataCache.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    metadataCache.set(partitions, metadata);
  }
  return defaultPartitioner({ topic: "", partitionMetadata: metadata, message: { key, value: null } });
}
