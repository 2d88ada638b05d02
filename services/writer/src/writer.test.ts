import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ConfigError } from "@vod/config";
import { createCatalog, createProducer, dlqName, type StreamSnapshot, type TypedProducer } from "@vod/kafka";
import {
  createTestTopics,
  freshDatabase,
  readTopic,
  testKafka,
  testLog,
  uniqueName,
  type TestDatabase,
} from "@vod/testing";
import { readEnv } from "./env.ts";
import { startWriter } from "./writer.ts";

const kafka = testKafka();
let producer: TypedProducer;
let t: TestDatabase;
beforeAll(async () => {
  producer = await createProducer(kafka, testLog);
  t = await freshDatabase();
});
afterAll(async () => {
  await producer.disconnect();
  await t.drop();
});

const snap = (over: Partial<StreamSnapshot>): StreamSnapshot => ({
  v: 1,
  sweepId: "s",
  observedAt: "2026-05-15T15:00:00.000Z",
  streamId: "1",
  startTime: "2026-05-15T14:51:32.123Z",
  streamerId: "7",
  login: "someone",
  viewers: 10,
  title: "t",
  gameId: "1",
  gameName: "Chess",
  language: "en",
  mature: false,
  ...over,
});

describe("writer", () => {
  it("a snapshot Postgres can never store goes to the DLQ with the reason; the rest of its batch is written", async () => {
    const prefix = `${uniqueName("w")}.`;
    const catalog = createCatalog(prefix);
    await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults]);
    // Same streamer, same partition, one batch: the middle stream id passes the schema but overflows bigint.
    await producer.send(catalog.streamSnapshots, [
      snap({ streamId: "11" }),
      snap({ streamId: "99999999999999999999999" }),
      snap({ streamId: "12" }),
    ]);
    const env = readEnv({
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: t.url,
      TOPIC_PREFIX: prefix,
      GROUP_ID: uniqueName("g"),
      RETRY_INITIAL: "20ms",
    });
    const writer = await startWriter(env, { kafka, producer, db: t.db, log: testLog });
    try {
      const dlq = await readTopic(kafka, dlqName(catalog.streamSnapshots.name), 1);
      expect(dlq[0]!.headers["dlq-reason"]).toMatch(/postgres refused the row: .*out of range/);
      expect(JSON.parse(dlq[0]!.value!)).toMatchObject({ streamId: "99999999999999999999999" });
    } finally {
      await writer.stop();
    }
    const { rows } = await t.pool.query<{ id: string }>(`select stream_id::text as id from vods order by 1`);
    expect(rows.map((r) => r.id)).toEqual(["11", "12"]);
  });

  it("a snapshot too large for an index (SQLSTATE 54000) goes to the DLQ; the rest of its batch is written", async () => {
    const prefix = `${uniqueName("w")}.`;
    const catalog = createCatalog(prefix);
    await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults]);
    // 3,000 characters that do not compress: over the 2,704-byte btree row limit of the login indexes.
    let login = "";
    for (let i = 0; login.length < 3000; i++) login += ((i * 2654435761) >>> 7).toString(36);
    await producer.send(catalog.streamSnapshots, [
      snap({ streamId: "21" }),
      snap({ streamId: "22", login: login.slice(0, 3000) }),
      snap({ streamId: "23" }),
    ]);
    const env = readEnv({
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: t.url,
      TOPIC_PREFIX: prefix,
      GROUP_ID: uniqueName("g"),
      RETRY_INITIAL: "20ms",
    });
    const writer = await startWriter(env, { kafka, producer, db: t.db, log: testLog });
    try {
      const dlq = await readTopic(kafka, dlqName(catalog.streamSnapshots.name), 1);
      expect(dlq[0]!.headers["dlq-reason"]).toMatch(/postgres refused the row: .*index row/);
      expect(JSON.parse(dlq[0]!.value!)).toMatchObject({ streamId: "22" });
    } finally {
      await writer.stop();
    }
    const { rows } = await t.pool.query<{ id: string }>(
      `select stream_id::text as id from vods where stream_id between 21 and 23 order by 1`,
    );
    expect(rows.map((r) => r.id)).toEqual(["21", "23"]);
  });

  it("bad configuration stops it at start, naming the field", () => {
    expect(() => readEnv({ BATCH_MAX_MESSAGES: "0", BATCH_MAX_WAIT: "soon" })).toThrow(ConfigError);
    expect(() => readEnv({ BATCH_MAX_WAIT: "soon" })).toThrow(/BATCH_MAX_WAIT/);
  });
});
