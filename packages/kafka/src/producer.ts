import { CompressionTypes, Partitioners, type Kafka, type Producer, type ProducerRecord, type IHeaders } from "kafkajs";
import type { Logger } from "@vod/log";
import type { TopicDef, ValueOf } from "./topic.ts";

export interface TypedProducer {
  /** Validates every value against the topic's schema, then sends and waits for all in-sync replicas. */
  send<T extends TopicDef>(topic: T, values: ValueOf<T>[], headers?: IHeaders): Promise<void>;
  /** Sends already-serialized messages (the DLQ path), without validation. */
  sendRaw(
    topic: string,
    messages: { key: Buffer | string | null; value: Buffer | string | null; headers?: IHeaders; partition?: number }[],
  ): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The broker no longer knows this producer's id, or its sequence numbers no longer follow what the
 * broker holds (after a broker restart that lost the producer's last state): every later send of
 * that producer fails the same way, so a new producer (a new id, sequences from 0) takes over.
 */
const PRODUCER_STATE_ERRORS = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
]);

/**
 * A connected idempotent producer: retries cannot duplicate or reorder what one producer wrote to a
 * partition. A send that fails because the broker lost the producer's state fails (the caller's retry
 * sends again, at least once) and the next send goes through a new producer.
 */
export async function createProducer(kafka: Kafka, log: Logger): Promise<TypedProducer> {
  const start = () => {
    const producer: Producer = kafka.producer({
      idempotent: true,
      // kafkajs keeps ordering under idempotence only with one request in flight.
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const ready = producer.connect();
    ready.catch(() => undefined); // awaited by the next send, which fails with it
    return { producer, ready };
  };
  let current = start();
  await current.ready;
  let open = true;
  const send = async (record: ProducerRecord) => {
    const used = current;
    let connected = false;
    try {
      await used.ready;
      connected = true;
      await used.producer.send(record);
    } catch (err) {
      // A new producer that could not connect (the broker still restarting) is started again too.
      const renew = !connected || hasErrorType(err, PRODUCER_STATE_ERRORS);
      if (open && used === current && renew) {
        log.warn(
          { err },
          connected
            ? "the broker lost this producer's state (a broker restart); a new producer takes over"
            : "a new producer could not connect; the next send starts another",
        );
        current = start();
        void used.producer.disconnect().catch(() => undefined);
      }
      throw err;
    }
  };
  return {
    async send(topic, values, headers) {
      if (values.length === 0) return;
      for (const chunk of bySize(toMessages(topic, values, headers)))
        await send({ topic: topic.name, messages: chunk, acks: -1, compression: CompressionTypes.None });
    },
    async sendRaw(topic, messages) {
      for (const chunk of bySize(messages)) await send({ topic, messages: chunk, acks: -1 });
    },
    async disconnect() {
      if (!open) return;
      open = false;
      // kafkajs sends synchronously per call, so every awaited send is already acknowledged here.
      await current.ready.catch(() => undefined);
      await current.producer.disconnect();
      log.debug("producer disconnected");
    },
  };
}

/** Validated and serialized, with one timestamp for the whole call (kafkajs would stamp each partition's batch separately). */
function toMessages<T extends TopicDef>(topic: T, values: ValueOf<T>[], headers?: IHeaders) {
  const timestamp = String(Date.now());
  return values.map((value) => {
    const parsed = topic.schema.parse(value);
    const partition = topic.partition?.(parsed);
    return {
      key: topic.key(parsed),
      value: JSON.stringify(parsed),
      timestamp,
      ...(headers ? { headers } : {}),
      ...(partition === undefined ? {} : { partition }),
    };
  });
}

/**
 * A producer that owns one transactional id, as a Kafka Streams task does: while a producer holds
 * the id, an earlier holder (a member that lost the partition, a process paused or killed mid-send)
 * can no longer make anything visible to read-committed readers: its open transaction is aborted
 * and its later sends fail with `FencedError`.
 */
export interface FencedProducer {
  /** Takes the id over: from here on every earlier holder is fenced. Call before reading what they wrote. */
  claim(): Promise<void>;
  /** Validates and sends the values in one transaction: all of them become visible, or none. */
  sendAtomically<T extends TopicDef>(topic: T, values: ValueOf<T>[]): Promise<void>;
  /**
   * Sends every part, in order, in one transaction: all of them become visible, or none. Parts are
   * already encoded (`encodeMessages`), so one transaction can span topics and hold tombstones.
   */
  sendParts(parts: OutgoingPart[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Encoded messages for one topic, as one part of a transaction. */
export interface OutgoingPart {
  topic: string;
  messages: { key: Buffer | string | null; value: Buffer | string | null; partition?: number; timestamp?: string }[];
}

/** Validates and encodes values as `TypedProducer.send` would, for a part of a transaction. */
export function encodeMessages<T extends TopicDef>(topic: T, values: ValueOf<T>[]): OutgoingPart {
  return { topic: topic.name, messages: toMessages(topic, values) };
}

/** Another producer has claimed this producer's transactional id. */
export class FencedError extends Error {
  constructor(transactionalId: string, cause: unknown) {
    super(`transactional id ${transactionalId} was claimed by another producer`, { cause });
  }
}

const FENCING_ERRORS = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"]);
const isFencing = (err: unknown) => hasErrorType(err, FENCING_ERRORS);

/** Whether kafkajs's error, or one it wraps (retries wrap the last error), is of one of these protocol types. */
function hasErrorType(err: unknown, types: ReadonlySet<string>): boolean {
  for (
    let e = err as { type?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e.type !== undefined && types.has(e.type)) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

export async function createFencedProducer(
  kafka: Kafka,
  log: Logger,
  transactionalId: string,
): Promise<FencedProducer> {
  const producer: Producer = kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let open = true;
  const fenced = (err: unknown) => (isFencing(err) ? new FencedError(transactionalId, err) : err);
  async function sendParts(parts: OutgoingPart[]): Promise<void> {
    if (parts.every((p) => p.messages.length === 0)) return;
    const tx = await producer.transaction().catch((err: unknown) => {
      throw fenced(err);
    });
    try {
      for (const part of parts)
        for (const chunk of bySize(part.messages))
          await tx.send({ topic: part.topic, messages: chunk, acks: -1, compression: CompressionTypes.None });
      await tx.commit();
    } catch (err) {
      if (tx.isActive())
        await tx
          .abort()
          .catch((abortErr: unknown) =>
            log.warn({ err: abortErr, transactionalId }, "aborting a failed transaction failed"),
          );
      throw fenced(err);
    }
  }
  return {
    async claim() {
      // The id is claimed (its epoch bumped, an open transaction of an earlier holder aborted) when the
      // first transaction begins; an empty one ends without a request.
      try {
        const tx = await producer.transaction();
        await tx.abort();
      } catch (err) {
        throw fenced(err);
      }
    },
    async sendAtomically(topic, values) {
      await sendParts([{ topic: topic.name, messages: toMessages(topic, values) }]);
    },
    sendParts,
    async disconnect() {
      if (!open) return;
      open = false;
      await producer.disconnect();
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
export function bySize<M extends { key?: Buffer | string | null; value: Buffer | string | null }>(
  messages: M[],
  maxBytes = MAX_SEND_BYTES,
): M[][] {
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
