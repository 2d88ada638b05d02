import { describe, expect, inject, it } from "vitest";
import { ConfigError } from "@vod/config";
import { createCatalog, dlqName, type StreamSnapshot } from "@vod/kafka";
import { createTestTopics, readTopic, streamSnapshot, testLog, uniqueName, useKafkaAndDatabase } from "@vod/testing";
import { readEnv } from "./env.ts";
import { startWriter } from "./writer.ts";

const { kafka, producer, t } = useKafkaAndDatabase();

const snap = (over: Partial<StreamSnapshot>): StreamSnapshot => streamSnapshot({ title: "t", ...over });

/** Publishes one batch of snapshots on fresh topics, runs a writer until the DLQ holds one record, and returns it. */
async function firstDeadLetter(batch: StreamSnapshot[]) {
  const prefix = `${uniqueName("w")}.`;
  const catalog = createCatalog(prefix);
  await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults]);
  await producer.send(catalog.streamSnapshots, batch);
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
    return { reason: dlq[0]!.headers["dlq-reason"], value: JSON.parse(dlq[0]!.value!) as unknown };
  } finally {
    await writer.stop();
  }
}

describe("writer", () => {
  it("a snapshot Postgres can never store goes to the DLQ with the reason; the rest of its batch is written", async () => {
    // Same streamer, same partition, one batch: the middle stream id passes the schema but overflows bigint.
    const dead = await firstDeadLetter([
      snap({ streamId: "11" }),
      snap({ streamId: "99999999999999999999999" }),
      snap({ streamId: "12" }),
    ]);
    expect(dead.reason).toMatch(/postgres refused the row: .*out of range/);
    expect(dead.value).toMatchObject({ streamId: "99999999999999999999999" });
    const { rows } = await t.pool.query<{ id: string }>(`select stream_id::text as id from vods order by 1`);
    expect(rows.map((r) => r.id)).toEqual(["11", "12"]);
  });

  it("a snapshot too large for an index (SQLSTATE 54000) goes to the DLQ; the rest of its batch is written", async () => {
    // 3,000 characters that do not compress: over the 2,704-byte btree row limit of the login indexes.
    let login = "";
    for (let i = 0; login.length < 3000; i++) login += ((i * 2654435761) >>> 7).toString(36);
    const dead = await firstDeadLetter([
      snap({ streamId: "21" }),
      snap({ streamId: "22", login: login.slice(0, 3000) }),
      snap({ streamId: "23" }),
    ]);
    expect(dead.reason).toMatch(/postgres refused the row: .*index row/);
    expect(dead.value).toMatchObject({ streamId: "22" });
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
