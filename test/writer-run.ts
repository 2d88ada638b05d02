// A writer in this process, run until its group has committed every offset of both topics it reads.
import { inject } from "vitest";
import type { Kafka } from "kafkajs";
import { Registry } from "prom-client";
import { createDb, createPool } from "@vod/db";
import type { Catalog, TypedProducer } from "@vod/kafka";
import { caughtUp, testLog } from "@vod/testing";
import { readEnv, startWriter } from "@vod/writer";

export interface WriterRun {
  kafka: Kafka;
  producer: TypedProducer;
  catalog: Catalog;
  prefix: string;
  databaseUrl: string;
  groupId: string;
  /** Its metrics land here. */
  registry?: Registry;
}

export async function writeUntilCaughtUp(o: WriterRun, timeoutMs = 60_000): Promise<void> {
  const pool = createPool({ url: o.databaseUrl, max: 2 });
  const env = readEnv({
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: o.databaseUrl,
    TOPIC_PREFIX: o.prefix,
    GROUP_ID: o.groupId,
    OPS_PORT: "0",
    LOG_LEVEL: "warn",
  });
  const writer = await startWriter(env, {
    kafka: o.kafka,
    producer: o.producer,
    db: createDb(pool),
    log: testLog,
    registry: o.registry ?? new Registry(),
  });
  try {
    const topics = [o.catalog.streamSnapshots.name, o.catalog.vodFetchResults.name];
    const deadline = Date.now() + timeoutMs;
    while (!(await caughtUp(o.kafka, o.groupId, topics))) {
      if (Date.now() > deadline) throw new Error("the writer did not commit every offset in time");
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await writer.stop();
    await pool.end();
  }
}
