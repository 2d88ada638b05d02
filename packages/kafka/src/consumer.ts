import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "@vod/log";
import { DEFAULT_BACKOFF, backoffDelay, sleep, type BackoffOptions } from "@vod/backoff";
import type { TypedProducer } from "./producer.ts";
import { coPartitionAssigner } from "./copartition.ts";
import { dlqName, type TopicDef, type ValueOf } from "./topic.ts";

/** A message whose value passed its topic's schema. */
export interface Message<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** Broker timestamp in epoch milliseconds. */
  timestamp: number;
  headers: IHeaders;
}

export interface HandlerContext {
  /** Fires when the consumer is stopping; long work should give up and let the batch be redelivered. */
  signal: AbortSignal;
  log: Logger;
  heartbeat(): Promise<void>;
}

/** Thrown by a handler for a message that can never succeed: it goes to the DLQ instead of being retried. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** What a batch handler hands back for messages that can never succeed (they go to the DLQ). */
export interface Rejection {
  offset: string;
  reason: string;
}

type BatchHandler<T> = (messages: Message<T>[], ctx: HandlerContext) => Promise<void | Rejection[]>;
type MessageHandler<T> = (message: Message<T>, ctx: HandlerContext) => Promise<void>;

export type Subscription = {
  topic: TopicDef;
  eachBatch?: BatchHandler<unknown>;
  eachMessage?: MessageHandler<unknown>;
};

/** Pairs a topic with its handler, keeping the value type of the handler tied to the topic's schema. */
export function subscribe<T extends TopicDef>(
  topic: T,
  handler: { eachBatch: BatchHandler<ValueOf<T>> } | { eachMessage: MessageHandler<ValueOf<T>> },
): Subscription {
  return { topic, ...handler } as Subscription;
}

export interface BatchReport {
  topic: string;
  partition: number;
  size: number;
  invalid: number;
  durationMs: number;
  attempts: number;
  outcome: "committed" | "abandoned";
  /** Messages on the partition after this batch, as of the fetch: the group's lag there. */
  lag: number;
}

export interface ConsumerOptions {
  kafka: Kafka;
  /** Used for dead-lettering; the runner never disconnects it. */
  producer: TypedProducer;
  groupId: string;
  subscriptions: Subscription[];
  log: Logger;
  /** A new group starts at the beginning of its topics (default) or at their end. */
  fromBeginning?: boolean;
  /** Largest number of messages handed to one handler call; offsets are committed after each. */
  maxBatchSize?: number;
  /** How long the broker may hold a fetch to fill a batch. */
  maxWaitMs?: number;
  /**
   * The broker holds a fetch until this many bytes are there or maxWaitMs passed: with both, batches
   * fill by size and time instead of trickling in one message at a time. Default 1 (answer at once).
   */
  minBytes?: number;
  /** Bytes one fetch may bring per partition (kafkajs default 1 MB); raise it for batches larger than that. */
  maxBytesPerPartition?: number;
  retry?: BackoffOptions;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  onBatch?: (report: BatchReport) => void;
  /**
   * Give a member partition n of every subscribed topic together (co-partitioned topics: every
   * message about a key lands with the member holding that key's state). Every member of the group
   * must use it: Kafka refuses a member whose assignment protocol the others do not share.
   */
  copartitioned?: boolean;
  /** After each join of the group, before any handler call for the partitions it names. */
  onAssign?: (assignment: Assignment) => void;
  /**
   * Called synchronously when this member's partitions may go to another member: the group began
   * rebalancing, the consumer crashed, or it is stopping. No handler runs at that moment (kafkajs
   * lets the batches in hand finish first); effects outside handlers must stop until `onAssign`.
   */
  onRevoke?: (reason: "rebalance" | "crash" | "stop") => void;
}

export interface Assignment {
  /** This member's id in the group; a new one means the group went on without it for a while. */
  memberId: string;
  /** Partitions per topic. */
  partitions: Record<string, number[]>;
}

export interface RunningConsumer {
  /** False once kafkajs gave up on the consumer (a crash it will not restart from) or it was stopped: for /healthz. */
  healthy(): boolean;
  /** Stops fetching, lets the batch in hand finish (or abandons a batch stuck in retries), commits, leaves the group. */
  stop(): Promise<void>;
  consumer: Consumer;
}

class Abandoned extends Error {}

/**
 * The one consumer loop every service runs. Offsets are committed only after the handler resolved
 * (and after invalid messages are in the DLQ), so a crash at any point redelivers, never skips.
 * Transient failures are retried with backoff for as long as the consumer runs.
 */
export async function runConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const {
    kafka,
    producer,
    groupId,
    subscriptions,
    log,
    fromBeginning = true,
    maxBatchSize = 1_000,
    maxWaitMs = 250,
    minBytes = 1,
    maxBytesPerPartition = 1_048_576,
    retry = DEFAULT_BACKOFF,
    sessionTimeoutMs = 30_000,
    heartbeatIntervalMs = 3_000,
    partitionsConsumedConcurrently = 1,
    onBatch,
  } = options;
  const byTopic = new Map(subscriptions.map((s) => [s.topic.name, s]));
  const stopping = new AbortController();
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    maxWaitTimeInMs: maxWaitMs,
    minBytes,
    maxBytesPerPartition,
    ...(options.copartitioned ? { partitionAssigners: [coPartitionAssigner] } : {}),
  });
  const groupLog = log.child({ group: groupId });
  let stopped: Promise<void> | undefined;
  let crashed = false;
  // Before run(): the first join happens inside it.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) crashed = true;
    groupLog.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
    options.onRevoke?.("crash");
  });
  consumer.on(consumer.events.REBALANCING, () => {
    groupLog.info("group rebalancing");
    options.onRevoke?.("rebalance");
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    groupLog.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, "joined the group");
    options.onAssign?.({ memberId: payload.memberId, partitions: payload.memberAssignment });
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning });

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    const sub = byTopic.get(batch.topic);
    if (!sub) throw new Error(`no handler for topic ${batch.topic}`);
    const partLog = groupLog.child({ topic: batch.topic, partition: batch.partition });
    for (let i = 0; i < batch.messages.length; i += maxBatchSize) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + maxBatchSize);
      const started = Date.now();
      const report = { topic: batch.topic, partition: batch.partition, size: chunk.length, invalid: 0, attempts: 0 };
      try {
        const { valid, invalid } = decode(sub.topic, batch.partition, chunk);
        report.invalid = invalid.length;
        const stillRunning = () => isRunning() && !isStale();
        await withRetry(partLog, stillRunning, () => deadLetter(invalid), payload, report);
        await handleChunk(sub, valid, payload, partLog, stillRunning, report);
        // The last chunk commits past what the fetch held beyond its messages too (a transaction's
        // commit marker, aborted records): otherwise the marker is fetched again and never committed.
        const last = i + maxBatchSize >= batch.messages.length ? batch.lastOffset() : chunk[chunk.length - 1]!.offset;
        payload.resolveOffset(last);
        await commit(payload, last);
        const lag = Number(BigInt(batch.highWatermark) - BigInt(last) - 1n);
        onBatch?.({ ...report, durationMs: Date.now() - started, outcome: "committed", lag });
      } catch (err) {
        if (err instanceof Abandoned) {
          partLog.warn({ size: chunk.length }, "batch abandoned on shutdown; it will be redelivered");
          onBatch?.({
            ...report,
            durationMs: Date.now() - started,
            outcome: "abandoned",
            lag: Number(BigInt(batch.highWatermark) - BigInt(chunk[0]!.offset)),
          });
          return;
        }
        throw err;
      }
    }
  }

  async function handleChunk(
    sub: Subscription,
    valid: Message<unknown>[],
    payload: EachBatchPayload,
    partLog: Logger,
    stillRunning: () => boolean,
    report: { attempts: number },
  ): Promise<void> {
    const ctx: HandlerContext = { signal: stopping.signal, log: partLog, heartbeat: payload.heartbeat };
    if (sub.eachBatch) {
      if (valid.length === 0) return;
      const handler = sub.eachBatch;
      const rejected = await withRetry(partLog, stillRunning, () => handler(valid, ctx), payload, report);
      if (rejected && rejected.length > 0) {
        const byOffset = new Map(rejected.map((r) => [r.offset, r.reason]));
        const rejects = valid
          .filter((m) => byOffset.has(m.offset))
          .map((m) => toDeadLetter(m, byOffset.get(m.offset)!));
        await withRetry(partLog, stillRunning, () => deadLetter(rejects), payload, report);
      }
      return;
    }
    const handler = sub.eachMessage!;
    for (const message of valid) {
      try {
        await withRetry(partLog, stillRunning, () => handler(message, ctx), payload, report);
      } catch (err) {
        if (!(err instanceof PermanentError)) {
          // Keep what is done: commit up to the message before the one we stop at.
          if (err instanceof Abandoned) await commitBefore(payload, message.offset);
          throw err;
        }
        partLog.warn({ offset: message.offset, err: err.message }, "message rejected by handler; sent to DLQ");
        await withRetry(partLog, stillRunning, () => deadLetter([toDeadLetter(message, err.message)]), payload, report);
      }
      payload.resolveOffset(message.offset);
    }
  }

  async function withRetry<R>(
    partLog: Logger,
    stillRunning: () => boolean,
    work: () => Promise<R>,
    payload: EachBatchPayload,
    report: { attempts: number },
  ): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      if (!stillRunning() || stopping.signal.aborted) throw new Abandoned();
      report.attempts++;
      const beat = setInterval(() => void payload.heartbeat().catch(() => undefined), heartbeatIntervalMs);
      try {
        return await work();
      } catch (err) {
        if (err instanceof PermanentError) throw err;
        const delay = backoffDelay(attempt, retry);
        partLog.error({ err, attempt, retryInMs: delay }, "handler failed; retrying");
        await sleep(delay, stopping.signal);
      } finally {
        clearInterval(beat);
      }
    }
  }

  function decode(topic: TopicDef, partition: number, messages: KafkaMessage[]) {
    const valid: Message<unknown>[] = [];
    const invalid: DeadLetter[] = [];
    for (const m of messages) {
      const base = {
        topic: topic.name,
        partition,
        offset: m.offset,
        key: m.key?.toString() ?? null,
        timestamp: Number(m.timestamp),
        headers: m.headers ?? {},
      };
      let json: unknown;
      try {
        json = m.value === null ? null : JSON.parse(m.value.toString("utf8"));
      } catch (err) {
        invalid.push({ ...base, raw: m, reason: `invalid JSON: ${(err as Error).message}` });
        continue;
      }
      const parsed = topic.schema.safeParse(json);
      if (parsed.success) valid.push({ ...base, value: parsed.data });
      else invalid.push({ ...base, raw: m, reason: formatIssues(parsed.error.issues) });
    }
    return { valid, invalid };
  }

  interface DeadLetter {
    topic: string;
    partition: number;
    offset: string;
    raw: Pick<KafkaMessage, "key" | "value" | "headers">;
    reason: string;
  }

  function toDeadLetter(m: Message<unknown>, reason: string): DeadLetter {
    return {
      ...m,
      raw: {
        key: m.key === null ? null : Buffer.from(m.key),
        value: Buffer.from(JSON.stringify(m.value)),
        headers: m.headers,
      },
      reason,
    };
  }

  async function deadLetter(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const byTopicName = new Map<string, DeadLetter[]>();
    for (const l of letters) byTopicName.set(l.topic, [...(byTopicName.get(l.topic) ?? []), l]);
    for (const [topic, list] of byTopicName) {
      groupLog.warn(
        { topic, count: list.length, reasons: list.slice(0, 3).map((l) => l.reason) },
        "invalid messages sent to DLQ",
      );
      await producer.sendRaw(
        dlqName(topic),
        list.map((l) => ({
          key: l.raw.key ?? null,
          value: l.raw.value ?? null,
          headers: {
            ...(l.raw.headers ?? {}),
            "dlq-reason": l.reason,
            "dlq-topic": l.topic,
            "dlq-partition": String(l.partition),
            "dlq-offset": l.offset,
            "dlq-group": groupId,
            "dlq-at": new Date().toISOString(),
          },
        })),
      );
    }
  }

  async function commit(payload: EachBatchPayload, lastOffset: string): Promise<void> {
    const offset = (BigInt(lastOffset) + 1n).toString();
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic: payload.batch.topic, partitions: [{ partition: payload.batch.partition, offset }] }],
    });
  }

  async function commitBefore(payload: EachBatchPayload, offset: string): Promise<void> {
    const first = payload.batch.messages[0]?.offset;
    if (first === undefined || BigInt(offset) <= BigInt(first)) return;
    await commit(payload, (BigInt(offset) - 1n).toString()).catch((err: unknown) =>
      groupLog.warn({ err }, "commit on shutdown failed"),
    );
  }

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently,
    eachBatch: handleBatch,
  });
  groupLog.info({ topics: [...byTopic.keys()] }, "consumer running");

  return {
    consumer,
    healthy: () => !crashed && stopped === undefined,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        options.onRevoke?.("stop");
        // disconnect() waits for the batch in hand to finish before leaving the group.
        await consumer.disconnect();
        groupLog.info("consumer stopped");
      })();
      return stopped;
    },
  };
}

function formatIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(value)"}: ${i.message}`)
    .join("; ");
}
