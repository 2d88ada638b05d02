import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestTopics, readTopic, testLog, uniqueName, useProducer } from "@vod/testing";
import { defineTopic, partitionOf, runConsumer, subscribe, type Assignment, type RunningConsumer } from "./index.ts";

const { kafka, producer } = useProducer();

const item = z.object({ streamerId: z.string(), n: z.number() });
const keyed = (name: string) =>
  defineTopic({ name: uniqueName(name), schema: item, key: (v) => v.streamerId, partitions: 6, retentionMs: -1 });

async function until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("co-partitioning", () => {
  it("partitionOf names the partition the producer writes a keyed message to", async () => {
    const topic = keyed("keyed");
    await createTestTopics(kafka, [topic]);
    const values = Array.from({ length: 60 }, (_, n) => ({ streamerId: String(1000 + n * 37), n }));
    await producer.send(topic, values);
    const read = await readTopic(kafka, topic.name, values.length, 30_000);
    expect(read).toHaveLength(values.length);
    for (const r of read) expect(r.partition).toBe(partitionOf(r.key!, 6));
    // Keys spread over every partition, so the check above covered them all.
    expect(new Set(read.map((r) => r.partition)).size).toBe(6);
  });

  it("an explicit partition of a topic overrides the key's hash", async () => {
    const topic = defineTopic({
      name: uniqueName("explicit"),
      schema: item,
      key: (v) => `other:${v.n}`,
      partition: (v) => partitionOf(v.streamerId, 6),
      partitions: 6,
      retentionMs: -1,
    });
    await createTestTopics(kafka, [topic]);
    const values = Array.from({ length: 30 }, (_, n) => ({ streamerId: String(5000 + n), n }));
    await producer.send(topic, values);
    const read = await readTopic(kafka, topic.name, values.length, 30_000);
    for (const r of read)
      expect(r.partition).toBe(partitionOf((JSON.parse(r.value!) as { streamerId: string }).streamerId, 6));
  });

  it("gives each member the same partition numbers of every topic, and reports assignments and revocations", async () => {
    const a = keyed("cpa");
    const b = keyed("cpb");
    await createTestTopics(kafka, [a, b]);
    const groupId = uniqueName("cp");
    const members: {
      assignments: Assignment[];
      revoked: string[];
      seen: { topic: string; partition: number }[];
      consumer?: RunningConsumer;
    }[] = [];
    const join = async () => {
      const m: (typeof members)[number] = { assignments: [], revoked: [], seen: [] };
      members.push(m);
      const record = async (msgs: { topic: string; partition: number }[]) =>
        void m.seen.push(...msgs.map(({ topic, partition }) => ({ topic, partition })));
      m.consumer = await runConsumer({
        kafka,
        producer,
        log: testLog,
        groupId,
        copartitioned: true,
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
        onAssign: (x) => void m.assignments.push(x),
        onRevoke: (reason) => void m.revoked.push(reason),
        subscriptions: [subscribe(a, { eachBatch: record }), subscribe(b, { eachBatch: record })],
      });
    };
    await join();
    await until(() => (members[0]!.assignments.at(-1)?.partitions[a.name]?.length ?? 0) === 6);
    await join();
    // Both settled in one generation where they split the partitions.
    const split = () => {
      const last = members.map((m) => m.assignments.at(-1));
      if (last.some((x) => !x)) return false;
      const mine = last.map((x) => [...(x!.partitions[a.name] ?? [])].sort().join(","));
      return mine.every((p) => p.length > 0) && new Set([...mine.join(",").split(",")]).size === 6;
    };
    await until(split);
    for (const m of members) {
      const last = m.assignments.at(-1)!;
      expect([...(last.partitions[a.name] ?? [])].sort()).toEqual([...(last.partitions[b.name] ?? [])].sort());
    }
    // The first member went through a rebalance when the second joined, or (its session lapsed on a
    // loaded machine) rejoined under a new member id, which its next assignment names.
    const rejoined = new Set(members[0]!.assignments.map((x) => x.memberId)).size > 1;
    expect(members[0]!.revoked.includes("rebalance") || rejoined, JSON.stringify(members[0]!.revoked)).toBe(true);
    const values = Array.from({ length: 60 }, (_, n) => ({ streamerId: String(2000 + n * 13), n }));
    await producer.send(a, values);
    await producer.send(b, values);
    await until(() => members.reduce((n, m) => n + m.seen.length, 0) >= 120);
    // Whoever got a streamer's messages in one topic got them in the other.
    for (const m of members) {
      const pa = new Set(m.seen.filter((s) => s.topic === a.name).map((s) => s.partition));
      const pb = new Set(m.seen.filter((s) => s.topic === b.name).map((s) => s.partition));
      expect(pa).toEqual(pb);
    }
    for (const m of members) await m.consumer!.stop();
    expect(members.every((m) => m.revoked.includes("stop"))).toBe(true);
  }, 60_000);
});
