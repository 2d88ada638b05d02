import type { Admin, Kafka } from "kafkajs";
import type { Logger } from "@vod/log";
import { dlqName, type TopicDef } from "./topic.ts";

/** How many copies a topic gets, and how many must hold a record before `acks=all` acknowledges it. */
export interface Replication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/**
 * Three replicas where the cluster has three brokers or more (fewer when it has fewer), and two of them
 * in sync for a write: any one broker may then die without losing an acknowledged record or stopping
 * the writes. One broker (the local default) keeps one replica.
 */
export function replicationFor(brokers: number): Replication {
  const replicationFactor = Math.max(1, Math.min(3, brokers));
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

/** The replication for the brokers the cluster has now (describeCluster). */
export async function clusterReplication(admin: Admin): Promise<Replication> {
  const { brokers } = await admin.describeCluster();
  return replicationFor(brokers.length);
}

function topicConfig(t: TopicDef, r: Replication) {
  const config = [
    { name: "cleanup.policy", value: t.compacted ? "compact" : "delete" },
    { name: "retention.ms", value: String(t.retentionMs) },
    { name: "min.insync.replicas", value: String(r.minInsyncReplicas) },
  ];
  // The active segment is never compacted: roll hourly, so a state topic read at start stays small.
  if (t.compacted)
    config.push({ name: "segment.ms", value: "3600000" }, { name: "min.cleanable.dirty.ratio", value: "0.1" });
  return config;
}

/**
 * Creates each topic and its DLQ with the catalog's partitions and retention, replicated as the
 * cluster's size allows (`replicationFor`); topics that exist are left alone, but a partition count
 * below the catalog's is reported (it would break key ordering to fix silently), as is a replication
 * factor below the cluster's (a reassignment, not a setting, raises it).
 */
export async function createTopics(kafka: Kafka, topics: TopicDef[], log: Logger): Promise<{ created: string[] }> {
  // A second pass finds the topics the first created present, and only checks them.
  return retrying(
    () => createTopicsOnce(kafka, topics, log),
    (err, attempt) => log.warn({ err: (err as Error).message, attempt }, "creating topics failed; retrying"),
  );
}

/**
 * Runs an admin step again after a retriable failure, up to five times: a broker that has just
 * started (or holds many partitions) may not yet host partitions it has just created.
 */
async function retrying<T>(step: () => Promise<T>, onRetry?: (err: unknown, attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= 5 || !retriable(err)) throw err;
      onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** Whether the error, or one it wraps (kafkajs wraps the last one when its retries run out), may pass by itself. */
function retriable(err: unknown): boolean {
  for (
    let e = err as { retriable?: unknown; cause?: unknown } | undefined;
    e && typeof e === "object";
    e = e.cause as typeof e
  )
    if (e.retriable === true) return true;
  return false;
}

async function createTopicsOnce(kafka: Kafka, topics: TopicDef[], log: Logger): Promise<{ created: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const r = await clusterReplication(admin);
    const wanted = topics.flatMap((t) => [
      {
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: r.replicationFactor,
        configEntries: topicConfig(t, r),
      },
      {
        topic: dlqName(t.name),
        numPartitions: 1,
        replicationFactor: r.replicationFactor,
        configEntries: [
          { name: "retention.ms", value: String(30 * 86_400_000) },
          { name: "min.insync.replicas", value: String(r.minInsyncReplicas) },
        ],
      },
    ]);
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
    const present = wanted.filter((t) => existing.has(t.topic));
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
      for (const t of meta.topics) {
        const want = present.find((p) => p.topic === t.name)!.numPartitions;
        if (t.partitions.length < want)
          log.warn(
            { topic: t.name, has: t.partitions.length, want },
            "topic has fewer partitions than the catalog says",
          );
        const replicas = Math.min(...t.partitions.map((p) => p.replicas.length));
        if (replicas < r.replicationFactor)
          log.warn(
            { topic: t.name, replicas, want: r.replicationFactor },
            "topic has fewer replicas than the cluster allows; reassign its partitions (kafka-reassign-partitions.sh)",
          );
      }
    }
    const created = missing.map((t) => t.topic);
    log.info({ created, existing: present.map((t) => t.topic), ...r }, "topics ready");
    return { created };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Checks that co-partitioned topics have `partitions` partitions each. Returns what is wrong and how
 * to fix it, or null: a consumer group whose state is partitioned by key cannot run on topics whose
 * partitions disagree (a key's messages would sit at different partition numbers).
 */
export function copartitionProblem(kafka: Kafka, topics: string[], partitions: number): Promise<string | null> {
  return retrying(() => copartitionProblemOnce(kafka, topics, partitions));
}

async function copartitionProblemOnce(kafka: Kafka, topics: string[], partitions: number): Promise<string | null> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics });
    const wrong = meta.topics.filter((t) => t.partitions.length !== partitions);
    if (wrong.length === 0) return null;
    const list = wrong.map((t) => `${t.name} has ${t.partitions.length}`).join(", ");
    const alter = wrong
      .filter((t) => t.partitions.length < partitions)
      .map((t) => `kafka-topics.sh --bootstrap-server <broker> --alter --topic ${t.name} --partitions ${partitions}`);
    return (
      `topics must be co-partitioned with ${partitions} partitions each, but ${list}. ` +
      (alter.length > 0 ? `Stop every instance of the group, then: ${alter.join("; ")}. ` : "") +
      (wrong.some((t) => t.partitions.length > partitions)
        ? "A topic with more partitions cannot be shrunk: recreate it or use a new TOPIC_PREFIX. "
        : "") +
      "Records already in a topic stay where they are: see the README's operations section on moving the delay's state."
    );
  } finally {
    await admin.disconnect();
  }
}
