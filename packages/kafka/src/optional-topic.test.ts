// A subscription marked optional whose topic does not exist (a feature newer than the deployment's
// topics) is left out with a warning; the consumer does its other work. A required one still fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestTopics, testKafka, testLog, uniqueName } from "@vod/testing";
import { createProducer, defineTopic, runConsumer, subscribe, type TypedProducer } from "./index.ts";

const kafka = testKafka();
let producer: TypedProducer;
const note = z.object({ id: z.string().min(1) });
const topic = () =>
  defineTopic({ name: uniqueName("notes"), schema: note, key: (v) => v.id, partitions: 1, retentionMs: -1 });

beforeAll(async () => {
  producer = await createProducer(kafka, testLog);
});
afterAll(async () => {
  await producer.disconnect();
});

describe("optional subscriptions", () => {
  it("consumes the topics that exist and leaves out a missing optional one", async () => {
    const present = topic();
    const missing = topic();
    await createTestTopics(kafka, [present]);
    await producer.send(present, [{ id: "a" }]);
    const seen: string[] = [];
    const consumer = await runConsumer({
      kafka,
      producer,
      log: testLog,
      groupId: uniqueName("g"),
      subscriptions: [
        subscribe(present, { eachBatch: async (m) => void seen.push(...m.map((x) => x.value.id)) }),
        subscribe(missing, { eachBatch: async () => undefined }, { optional: true }),
      ],
    });
    const deadline = Date.now() + 20_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(consumer.healthy()).toBe(true);
    await consumer.stop();
    expect(seen).toEqual(["a"]);
  });

  it("fails to start when a required topic is missing", async () => {
    const missing = topic();
    await expect(
      runConsumer({
        kafka,
        producer,
        log: testLog,
        groupId: uniqueName("g"),
        subscriptions: [subscribe(missing, { eachBatch: async () => undefined })],
      }),
    ).rejects.toThrow();
  }, 60_000);
});
