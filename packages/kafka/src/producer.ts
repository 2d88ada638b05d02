import { CompressionTypes, Partitioners, type Kafka, type Producer, type IHeaders } from "kafkajs";
import type { Logger } from "@vod/log";
import type { TopicDef, ValueOf } from "./topic.ts";

export interface TypedProducer {
  /** Validates every value against the topic's schema, then sends and waits for all in-sync replicas. */
  send<T extends TopicDef>(topic: T, values: ValueOf<T>[], headers?: IHeaders): Promise<void>;
  /** Sends already-serialized messages (the DLQ path), without validation. */
  sendRaw(topic: string, messages: { key: Buffer | string | null; value: Buffer | string | null; headers?: IHeaders; partition?: number }[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A connected idempotent producer: retries cannot duplicate or reorder what one producer wrote to a partition. */
export async function createProducer(kafka: Kafka, log: Logger): Promise<TypedProducer> {
  const producer: Producer = kafka.producer({
    idempotent: true,
    // kafkajs keeps ordering under idempotence only with one request in flight.
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let open = true;
  return {
    async send(topic, values, headers) {
      if (values.length === 0) return;
      // One timestamp for the whole call: kafkajs would stamp each partition's batch separately.
      const timestamp = String(Date.now());
      const messages = values.map((value) => {
        const parsed = topic.schema.parse(value);
        const partition = topic.partition?.(parsed);
        return { key: topic.key(parsed), value: JSON.stringify(parsed), timestamp, ...(headers ? { headers } : {}), ...(partition === undefined ? {} : { partition }) };
      });
      for (const chunk of bySize(messages)) await producer.send({ topic: topic.name, messages: chunk, acks: -1, compression: CompressionTypes.None });
    },
    async sendRaw(topic, messages) {
      for (const chunk of bySize(messages)) await producer.send({ topic, messages: chunk, acks: -1 });
    },
    async disconnect() {
      if (!open) return;
      open = false;
      // kafkajs sends synchronously per call, so every awaited send is already acknowledged here.
      await producer.disconnect();
      log.debug("producer disconnected");
    },
  };
}

/** Below the broker's default 1 MB limit on one partition's record batch, with room for headers and framing. */
const MAX_SEND_BYTES = 512 * 1024;

/**
 * Splits a send into calls of at most MAX_SEND_BYTES of keys and values: kafkajs sends each
 * partition's share of a call as one record batch, and a batch over the broker's limit is refused
 * again on every retry.
 */
export function bySize<M extends { key?: Buffer | string | null; value: Buffer | string | null }>(messages: M[], maxBytes = MAX_SEND_BYTES): M[][] {
  const chunks: M[][] = [];
  let chunk: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.value ?? "") + Buffer.byteLength(m.key ?? "");
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
