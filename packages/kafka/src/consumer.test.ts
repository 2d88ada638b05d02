import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { committedOffsets, createTestTopics, readTopic, testKafka, testLog, uniqueName } from "@vod/testing";
import {
  createProducer,
  defineTopic,
  type BatchReport,
  dlqName,
  runConsumer,
  subscribe,
  type Message,
  type TypedProducer,
} from "./index.ts";

const kafka = testKafka();
let producer: TypedProducer;

const order = z.object({ id: z.string().min(1), qty: z.number().int().positive() });
const orderTopic = () =>
  defineTopic({ name: uniqueName("orders"), schema: order, key: (v) => v.id, partitions: 1, retentionMs: -1 });

beforeAll(async () => {
  producer = await createProducer(kafka, testLog);
});
afterAll(async () => {
  await producer.disconnect();
});

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("consumer runtime against the real broker", () => {
  it("produces and consumes typed values; the producer refuses values that break the schema", async () => {
    const topic = orderTopic();
    await createTestTopics(kafka, [topic]);
    await producer.send(topic, [
      { id: "a", qty: 1 },
      { id: "b", qty: 2 },
    ]);
    await expect(producer.send(topic, [{ id: "", qty: -1 }])).rejects.toThrow();

    const seen: Message<z.output<typeof order>>[] = [];
    const reports: BatchReport[] = [];
    const consumer = await runConsumer({
      kafka,
      producer,
      log: testLog,
      groupId: uniqueName("g"),
      subscriptions: [subscribe(topic, { eachBatch: async (msgs) => void seen.push(...msgs) })],
      onBatch: (r) => void reports.push(r),
    });
    await until(() => seen.length >= 2);
    expect(consumer.healthy()).toBe(true);
    await consumer.stop();
    expect(consumer.healthy()).toBe(false);
    expect(seen.map((m) => [m.key, m.value])).toEqual([
      ["a", { id: "a", qty: 1 }],
      ["b", { id: "b", qty: 2 }],
    ]);
    expect(reports.reduce((n, r) => n + r.size, 0)).toBe(2);
    expect(reports.at(-1)).toMatchObject({ topic: topic.name, partition: 0, outcome: "committed", lag: 0 });
  });

  it("sends an invalid message to the DLQ with the reason, and still handles the next valid one", async () => {
    const topic = orderTopic();
    await createTestTopics(kafka, [topic]);
    await producer.sendRaw(topic.name, [
      { key: "x", value: JSON.stringify({ id: "x", qty: "many" }) },
      { key: "y", value: "{not json" },
      { key: "z", value: JSON.stringify({ id: "z", qty: 3 }) },
    ]);
    const seen: string[] = [];
    const groupId = uniqueName("g");
    const consumer = await runConsumer({
      kafka,
      producer,
      log: testLog,
      groupId,
      subscriptions: [subscribe(topic, { eachMessage: async (m) => void seen.push(m.value.id) })],
    });
    await until(() => seen.length >= 1);
    await consumer.stop();
    expect(seen).toEqual(["z"]);

    const dlq = await readTopic(kafka, dlqName(topic.name), 2);
    expect(dlq.map((r) => r.key)).toEqual(["x", "y"]);
    expect(dlq[0]!.headers["dlq-reason"]).toMatch(/qty/);
    expect(dlq[1]!.headers["dlq-reason"]).toMatch(/invalid JSON/);
    expect(dlq[0]).toMatchObject({
      value: JSON.stringify({ id: "x", qty: "many" }),
      headers: { "dlq-topic": topic.name, "dlq-offset": "0", "dlq-group": groupId },
    });
    expect((await committedOffsets(kafka, groupId, topic.name)).get(0)).toBe(3n);
  });

  it("does not commit when the handler throws, so the message is delivered again after a restart", async () => {
    const topic = orderTopic();
    await createTestTopics(kafka, [topic]);
    await producer.send(topic, [{ id: "boom", qty: 1 }]);
    const groupId = uniqueName("g");
    let attempts = 0;
    const failing = await runConsumer({
      kafka,
      producer,
      log: testLog,
      groupId,
      retry: { initialMs: 20, maxMs: 50 },
      subscriptions: [
        subscribe(topic, {
          eachMessage: async () => {
            attempts++;
            throw new Error("database unavailable");
          },
        }),
      ],
    });
    await until(() => attempts >= 3);
    await failing.stop();
    expect((await committedOffsets(kafka, groupId, topic.name)).get(0)).toBe(-1n);

    const redelivered: string[] = [];
    const healthy = await runConsumer({
      kafka,
      producer,
      log: testLog,
      groupId,
      subscriptions: [subscribe(topic, { eachMessage: async (m) => void redelivered.push(m.value.id) })],
    });
    await until(() => redelivered.length >= 1);
    await healthy.stop();
    expect(redelivered).toEqual(["boom"]);
    expect((await committedOffsets(kafka, groupId, topic.name)).get(0)).toBe(1n);
  });

  it("hands over batches beyond kafkajs's 1 MB per partition when maxBytesPerPartition allows it", async () => {
    const topic = orderTopic();
    await createTestTopics(kafka, [topic]);
    const total = 3_000;
    // About 730 bytes each: 2.2 MB on one partition.
    const values = Array.from({ length: total }, (_, i) => ({ id: `${"x".repeat(720)}${i}`, qty: 1 }));
    for (let i = 0; i < total; i += 500) await producer.send(topic, values.slice(i, i + 500));
    const firstBatch = async (extra: { maxBytesPerPartition?: number; minBytes?: number }) => {
      const sizes: number[] = [];
      const consumer = await runConsumer({
        kafka,
        producer,
        log: testLog,
        groupId: uniqueName("g"),
        maxBatchSize: 5_000,
        maxWaitMs: 500,
        ...extra,
        subscriptions: [subscribe(topic, { eachBatch: async (msgs) => void sizes.push(msgs.length) })],
      });
      await until(() => sizes.reduce((a, b) => a + b, 0) >= total);
      await consumer.stop();
      return sizes[0]!;
    };
    expect(await firstBatch({})).toBeLessThan(total);
    expect(await firstBatch({ maxBytesPerPartition: 8 << 20, minBytes: 4 << 20 })).toBe(total);
  });

  it("finishes the batch in hand on SIGTERM, commits it, and a restart picks up the rest: nothing lost, nothing twice", async () => {
    const topic = orderTopic();
    await createTestTopics(kafka, [topic]);
    const total = 300;
    const numbers = z.object({ n: z.number() });
    const numberTopic = defineTopic({
      name: topic.name,
      schema: numbers,
      key: (v) => String(v.n),
      partitions: 1,
      retentionMs: -1,
    });
    await producer.send(
      numberTopic,
      Array.from({ length: total }, (_, n) => ({ n })),
    );
    const groupId = uniqueName("g");
    const out = join(tmpdir(), `${uniqueName("sigterm")}.txt`);
    const lines = () => (existsSync(out) ? readFileSync(out, "utf8").split("\n").filter(Boolean).map(Number) : []);

    const start = () => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", fileURLToPath(new URL("./__fixtures__/slow-consumer.ts", import.meta.url))],
        {
          env: {
            ...process.env,
            KAFKA_BROKERS: inject("kafkaBrokers").join(","),
            TOPIC: topic.name,
            GROUP: groupId,
            OUT: out,
          },
          stdio: ["ignore", "inherit", "inherit"],
        },
      );
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      return { child, exited };
    };

    const first = start();
    // Mid-batch: 50 messages a batch at 20 ms each; stop after 60 are done, inside the second batch.
    await until(() => lines().length >= 60, 30_000);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const afterStop = lines();
    expect(afterStop.length % 50).toBe(0);
    expect((await committedOffsets(kafka, groupId, topic.name)).get(0)).toBe(BigInt(afterStop.length));

    const second = start();
    await until(() => lines().length >= total, 40_000);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    const all = lines();
    expect(new Set(all).size).toBe(total);
    expect(all).toHaveLength(total);
  });
});
