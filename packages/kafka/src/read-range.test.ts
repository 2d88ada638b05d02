import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestTopics, testKafka, testLog, uniqueName } from "@vod/testing";
import { createProducer, defineTopic, readRange, type TypedProducer } from "./index.ts";

const kafka = testKafka();
let producer: TypedProducer;
beforeAll(async () => {
  producer = await createProducer(kafka, testLog);
});
afterAll(async () => producer.disconnect());

describe("readRange", () => {
  it("reads a partition larger than one fetch (1 MB) to its end, every message once, in order", async () => {
    const topic = defineTopic({
      name: uniqueName("range"),
      schema: z.object({ n: z.number(), pad: z.string() }),
      key: () => "one-partition",
      partitions: 1,
      retentionMs: -1,
    });
    await createTestTopics(kafka, [topic]);
    const values = Array.from({ length: 4_000 }, (_, n) => ({ n, pad: "p".repeat(600) }));
    await producer.send(topic, values);
    const seen: number[] = [];
    const count = await readRange(
      {
        kafka,
        topic: topic.name,
        groupId: uniqueName("range-reader"),
        from: (_p, low) => low,
        log: testLog,
        timeoutMs: 30_000,
      },
      (messages) => {
        for (const m of messages) seen.push((JSON.parse(m.value!.toString("utf8")) as { n: number }).n);
      },
    );
    expect(count).toBe(values.length);
    expect(seen).toEqual(values.map((v) => v.n));
  });

  it("hands on each offset of several partitions once, from the middle as from the start", async () => {
    const topic = defineTopic({
      name: uniqueName("range3"),
      schema: z.object({ n: z.number() }),
      key: (v) => `k${v.n % 17}`,
      partitions: 3,
      retentionMs: -1,
    });
    await createTestTopics(kafka, [topic]);
    await producer.send(
      topic,
      Array.from({ length: 3_000 }, (_, n) => ({ n })),
    );
    for (const from of [
      (_p: number, low: bigint) => low,
      (_p: number, low: bigint, high: bigint) => (low + high) / 2n,
    ]) {
      const seen: string[] = [];
      await readRange(
        { kafka, topic: topic.name, groupId: uniqueName("range3-reader"), from, log: testLog, timeoutMs: 30_000 },
        (messages, partition) => {
          for (const m of messages) seen.push(`${partition}:${m.offset}`);
        },
      );
      expect(seen.length).toBeGreaterThan(1_000);
      expect(new Set(seen).size).toBe(seen.length);
    }
  });
});
