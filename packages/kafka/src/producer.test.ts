import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestTopics, readTopic, testKafka, testLog, uniqueName } from "@vod/testing";
import { bySize, createProducer, defineTopic, type TypedProducer } from "./index.ts";

const kafka = testKafka();
let producer: TypedProducer;
beforeAll(async () => {
  producer = await createProducer(kafka, testLog);
});
afterAll(async () => producer.disconnect());

describe("producer", () => {
  it("splits by size: chunks stay under the limit and keep the order", () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: "x".repeat(299) }));
    const chunks = bySize(messages, 1_000);
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(chunks.flat()).toEqual(messages);
    expect(bySize([{ key: null, value: "y".repeat(5_000) }], 1_000)).toHaveLength(1);
  });

  it("sends more than the broker takes in one record batch (1 MB) in one call, every message once", async () => {
    const topic = defineTopic({ name: uniqueName("big"), schema: z.object({ n: z.number(), pad: z.string() }), key: () => "one-partition", partitions: 1, retentionMs: -1 });
    await createTestTopics(kafka, [topic]);
    const values = Array.from({ length: 3_000 }, (_, n) => ({ n, pad: "p".repeat(600) }));
    await producer.send(topic, values);
    const read = await readTopic(kafka, topic.name, values.length, 30_000);
    expect(read.map((r) => (JSON.parse(r.value!) as { n: number }).n)).toEqual(values.map((v) => v.n));
  });
});
