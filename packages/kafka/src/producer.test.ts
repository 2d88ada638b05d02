import { beforeAll, describe, expect, it } from "vitest";
import type { Kafka, Producer } from "kafkajs";
import { z } from "zod";
import {
  caughtUp,
  committedOffsets,
  createTestTopics,
  readTopic,
  testLog,
  uniqueName,
  useProducer,
} from "@vod/testing";
import {
  bySize,
  createFencedProducer,
  createProducer,
  defineTopic,
  FencedError,
  readRange,
  runConsumer,
  subscribe,
} from "./index.ts";

const { kafka, producer } = useProducer();

describe("producer", () => {
  it("splits by size: chunks stay under the limit and keep the order", () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: "x".repeat(299) }));
    const chunks = bySize(messages, 1_000);
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(chunks.flat()).toEqual(messages);
    expect(bySize([{ key: null, value: "y".repeat(5_000) }], 1_000)).toHaveLength(1);
  });

  it("sends more than the broker takes in one record batch (1 MB) in one call, every message once", async () => {
    const topic = defineTopic({
      name: uniqueName("big"),
      schema: z.object({ n: z.number(), pad: z.string() }),
      key: () => "one-partition",
      partitions: 1,
      retentionMs: -1,
    });
    await createTestTopics(kafka, [topic]);
    const values = Array.from({ length: 3_000 }, (_, n) => ({ n, pad: "p".repeat(600) }));
    await producer.send(topic, values);
    const read = await readTopic(kafka, topic.name, values.length, 30_000);
    expect(read.map((r) => (JSON.parse(r.value!) as { n: number }).n)).toEqual(values.map((v) => v.n));
  });
});

describe("producer after the broker lost its state", () => {
  /** A Kafka whose first producer fails every send as kafkajs does after such a broker restart. */
  function breakingFirstProducer(type: string, secondCannotConnect = false) {
    const made: Producer[] = [];
    const failing = Object.create(kafka) as Kafka;
    failing.producer = (config) => {
      const p = kafka.producer(config);
      if (made.length === 0)
        p.send = () => {
          const cause = Object.assign(new Error(`the broker says ${type}`), { type });
          return Promise.reject(Object.assign(new Error("retries exhausted"), { originalError: cause }));
        };
      if (made.length === 1 && secondCannotConnect)
        p.connect = () => Promise.reject(new Error("Connection error: connect ECONNREFUSED"));
      made.push(p);
      return p;
    };
    return { failing, made };
  }
  const topic = defineTopic({
    name: uniqueName("renew"),
    schema: z.object({ n: z.number() }),
    key: () => "k",
    partitions: 1,
    retentionMs: -1,
  });
  beforeAll(async () => createTestTopics(kafka, [topic]));

  it("fails the send that finds out, and sends the next through a new producer", async () => {
    const { failing, made } = breakingFirstProducer("OUT_OF_ORDER_SEQUENCE_NUMBER");
    const p = await createProducer(failing, testLog);
    try {
      await expect(p.send(topic, [{ n: 1 }])).rejects.toThrow("retries exhausted");
      await p.send(topic, [{ n: 2 }]);
      expect(made).toHaveLength(2);
      const read = await readTopic(kafka, topic.name, 1, 30_000);
      expect(read.map((r) => JSON.parse(r.value!) as { n: number })).toEqual([{ n: 2 }]);
    } finally {
      await p.disconnect();
    }
  });

  it("starts another when the new producer cannot connect (the broker still restarting)", async () => {
    const { failing, made } = breakingFirstProducer("UNKNOWN_PRODUCER_ID", true);
    const p = await createProducer(failing, testLog);
    try {
      await expect(p.send(topic, [{ n: 5 }])).rejects.toThrow("retries exhausted");
      await expect(p.send(topic, [{ n: 6 }])).rejects.toThrow("ECONNREFUSED");
      await p.send(topic, [{ n: 7 }]);
      expect(made).toHaveLength(3);
    } finally {
      await p.disconnect();
    }
  });

  it("keeps its producer on any other failure", async () => {
    const { failing, made } = breakingFirstProducer("REQUEST_TIMED_OUT");
    const p = await createProducer(failing, testLog);
    try {
      await expect(p.send(topic, [{ n: 3 }])).rejects.toThrow("retries exhausted");
      await expect(p.send(topic, [{ n: 4 }])).rejects.toThrow("retries exhausted");
      expect(made).toHaveLength(1);
    } finally {
      await p.disconnect();
    }
  });
});

describe("fenced producer", () => {
  const numbered = () =>
    defineTopic({
      name: uniqueName("fenced"),
      schema: z.object({ n: z.number() }),
      key: () => "k",
      partitions: 1,
      retentionMs: -1,
    });
  const readNumbers = async (topic: string) => {
    const out: number[] = [];
    // A short timeout: a read that cannot see past the last transaction's marker fails here rather than hang.
    await readRange(
      { kafka, topic, groupId: uniqueName("read"), from: (_p, low) => low, timeoutMs: 15_000 },
      (messages) => {
        for (const m of messages) out.push((JSON.parse(m.value!.toString()) as { n: number }).n);
      },
    );
    return out;
  };

  it("fences the earlier holder of an id once another claims it: its later sends fail and never become visible", async () => {
    const topic = numbered();
    await createTestTopics(kafka, [topic]);
    const id = uniqueName("txid");
    const first = await createFencedProducer(kafka, testLog, id);
    const second = await createFencedProducer(kafka, testLog, id);
    try {
      await first.claim();
      await first.sendAtomically(topic, [{ n: 1 }, { n: 2 }]);
      await second.claim();
      await expect(first.sendAtomically(topic, [{ n: 3 }])).rejects.toBeInstanceOf(FencedError);
      await second.sendAtomically(topic, [{ n: 4 }]);
      expect(await readNumbers(topic.name)).toEqual([1, 2, 4]);
    } finally {
      await first.disconnect();
      await second.disconnect();
    }
  });

  it("aborts, by claiming, a transaction its earlier holder left open (a process killed mid-send)", async () => {
    const topic = numbered();
    await createTestTopics(kafka, [topic]);
    const id = uniqueName("txid");
    const killed = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await killed.connect();
    const tx = await killed.transaction();
    await tx.send({ topic: topic.name, messages: [{ key: "k", value: JSON.stringify({ n: 9 }) }] });
    // Never committed: the producer is gone as a killed process is.
    const next = await createFencedProducer(kafka, testLog, id);
    try {
      await next.claim();
      await next.sendAtomically(topic, [{ n: 10 }]);
      expect(await readNumbers(topic.name)).toEqual([10]);
    } finally {
      await next.disconnect();
      await killed.disconnect().catch(() => undefined);
    }
  });

  it("lets a consumer group commit past the transactions' markers, so its lag reaches zero", async () => {
    const topic = numbered();
    await createTestTopics(kafka, [topic]);
    const fenced = await createFencedProducer(kafka, testLog, uniqueName("txid"));
    const groupId = uniqueName("g");
    const seen: number[] = [];
    const consumer = await runConsumer({
      kafka,
      producer,
      log: testLog,
      groupId,
      subscriptions: [subscribe(topic, { eachBatch: async (ms) => void seen.push(...ms.map((m) => m.value.n)) })],
    });
    try {
      for (let n = 0; n < 3; n++) await fenced.sendAtomically(topic, [{ n }]);
      const deadline = Date.now() + 20_000;
      while (!(await caughtUp(kafka, groupId, [topic.name])) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([0, 1, 2]);
      // Three records and three commit markers: committed at the end, not one short of it.
      expect((await committedOffsets(kafka, groupId, topic.name)).get(0)).toBe(6n);
    } finally {
      await consumer.stop();
      await fenced.disconnect();
    }
  });
});
