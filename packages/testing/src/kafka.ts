import "./context.ts";
import { inject, onTestFinished } from "vitest";
import type { Consumer, Kafka } from "kafkajs";
import { coPartitionAssigner, createCatalog, createKafka, createTopics, type Catalog, type TopicDef } from "@vod/kafka";
import { createLogger, type Logger } from "@vod/log";
import { testEnv } from "./env.ts";
import { uniqueName } from "./names.ts";

export const testLog: Logger = createLogger({ service: "test", level: testEnv.TEST_LOG_LEVEL });

export function testKafka(clientId = "test"): Kafka {
  return createKafka({ brokers: inject("kafkaBrokers"), clientId, log: testLog });
}

export async function createTestTopics(kafka: Kafka, topics: TopicDef[]): Promise<void> {
  await createTopics(kafka, topics, testLog);
  // A loaded broker may answer "not the leader" for a partition just created: the topics are ready for
  // a test once every partition's offsets can be listed.
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const t of topics) await admin.fetchTopicOffsets(t.name);
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

export interface RawRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning until `count` records arrived (or `timeoutMs` passed) with a
 * throwaway group, and returns what it saw. For asserting on what a stage wrote.
 */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000): Promise<RawRecord[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 100 });
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The committed offset of a group on each partition of a topic (-1 when nothing was committed). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** The end (high watermark) of each partition of a topic. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** True once the group has committed everything on every partition of the topics (an empty partition needs nothing). */
export async function caughtUp(kafka: Kafka, groupId: string, topics: string[]): Promise<boolean> {
  for (const topic of topics) {
    const [ends, committed] = await Promise.all([endOffsets(kafka, topic), committedOffsets(kafka, groupId, topic)]);
    for (const [p, end] of ends) if (end > 0n && (committed.get(p) ?? -1n) < end) return false;
  }
  return true;
}

/**
 * A member of `groupId`, subscribed to `topic`, with an assignment protocol a service's consumer
 * (round robin) cannot share: Kafka refuses that consumer with INCONSISTENT_GROUP_PROTOCOL, which
 * kafkajs does not retry, so it dies as a consumer dies for real.
 */
export async function holdGroupAgainstServices(kafka: Kafka, groupId: string, topic: string): Promise<Consumer> {
  const holder = kafka.consumer({ groupId, partitionAssigners: [coPartitionAssigner] });
  const joined = new Promise<void>((resolve) => holder.on(holder.events.GROUP_JOIN, () => resolve()));
  await holder.connect();
  await holder.subscribe({ topics: [topic] });
  await holder.run({ eachMessage: async () => undefined });
  await joined;
  return holder;
}

/**
 * Fresh topics under a new prefix, and a group that the services' consumers cannot join: kafkajs gives
 * up on them as Kafka kills them for real. `topics` names the topics; the group is held on the first
 * until the calling test ends.
 */
export async function deadGroup(
  kafka: Kafka,
  tag: string,
  topics: (catalog: Catalog) => [TopicDef, ...TopicDef[]],
): Promise<{ prefix: string; groupId: string }> {
  const prefix = `${uniqueName(tag)}.`;
  const all = topics(createCatalog(prefix));
  await createTestTopics(kafka, all);
  const groupId = uniqueName("g");
  const holder = await holdGroupAgainstServices(kafka, groupId, all[0].name);
  onTestFinished(() => holder.disconnect());
  return { prefix, groupId };
}
