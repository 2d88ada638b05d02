import type { Consumer, Kafka } from "kafkajs";
import type { Logger } from "@vod/log";
import { DEFAULT_BACKOFF, type BackoffOptions } from "@vod/backoff";
import type { TypedProducer } from "./producer.ts";
import { coPartitionAssigner } from "./copartition.ts";
import { sendDeadLetters } from "./dead-letter.ts";
import { batchHandler } from "./dispatch.ts";
import { watchGroup } from "./group-events.ts";
import type { Subscription } from "./subscription.ts";

export {
  subscribe,
  PermanentError,
  type Message,
  type HandlerContext,
  type Rejection,
  type Subscription,
} from "./subscription.ts";

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

/**
 * The one consumer loop every service runs. Offsets are committed only after the handler resolved
 * (and after invalid messages are in the DLQ), so a crash at any point redelivers, never skips.
 * Transient failures are retried with backoff for as long as the consumer runs.
 *
 * The wiring: `batchHandler` (a batch through decode, DLQ, handler and commit), `watchGroup` (the
 * group's events as `onAssign`/`onRevoke`, and the crash health reads); the pieces under them are
 * `retrying`, `sendDeadLetters`, `decode` and `commitChunk`.
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
  const byTopic = new Map((await present(kafka, subscriptions, log)).map((s) => [s.topic.name, s]));
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
  // Before run(): the first join happens inside it.
  const group = watchGroup(consumer, groupLog, options);

  await consumer.connect();
  await consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning });

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently,
    eachBatch: batchHandler({
      byTopic,
      maxBatchSize,
      log: groupLog,
      retry: { stopping: stopping.signal, heartbeatIntervalMs, backoff: retry },
      deadLetter: (letters) => sendDeadLetters({ producer, groupId, log: groupLog }, letters),
      onBatch,
    }),
  });
  groupLog.info({ topics: [...byTopic.keys()] }, "consumer running");

  return {
    consumer,
    healthy: () => !group.crashed() && stopped === undefined,
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

/** The subscriptions whose topics exist: an optional one whose topic is missing is left out, with a warning. */
async function present(kafka: Kafka, subscriptions: Subscription[], log: Logger): Promise<Subscription[]> {
  if (!subscriptions.some((s) => s.optional)) return subscriptions;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = new Set(await admin.listTopics());
    return subscriptions.filter((s) => {
      if (!s.optional || topics.has(s.topic.name)) return true;
      log.warn({ topic: s.topic.name }, "optional topic missing: not consumed (create it with npm run topics:create)");
      return false;
    });
  } finally {
    await admin.disconnect();
  }
}
