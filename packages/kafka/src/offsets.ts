import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import type { Logger } from "@vod/log";

/**
 * Stores the offset past a chunk whose work is done (handled, or in the DLQ); returns the last
 * offset it covers.
 */
export async function commitChunk(
  payload: EachBatchPayload,
  chunk: readonly KafkaMessage[],
  lastChunk: boolean,
): Promise<string> {
  // The last chunk commits past what the fetch held beyond its messages too (a transaction's
  // commit marker, aborted records): otherwise the marker is fetched again and never committed.
  const last = lastChunk ? payload.batch.lastOffset() : chunk[chunk.length - 1]!.offset;
  payload.resolveOffset(last);
  await commit(payload, last);
  return last;
}

/** Keeps what is done when a batch is abandoned: commits up to the message before `offset`. */
export async function commitBefore(payload: EachBatchPayload, offset: string, log: Logger): Promise<void> {
  const first = payload.batch.messages[0]?.offset;
  if (first === undefined || BigInt(offset) <= BigInt(first)) return;
  await commit(payload, (BigInt(offset) - 1n).toString()).catch((err: unknown) =>
    log.warn({ err }, "commit on shutdown failed"),
  );
}

async function commit(payload: EachBatchPayload, lastOffset: string): Promise<void> {
  const offset = (BigInt(lastOffset) + 1n).toString();
  await payload.commitOffsetsIfNecessary({
    topics: [{ topic: payload.batch.topic, partitions: [{ partition: payload.batch.partition, offset }] }],
  });
}
