// A writer whose consumer kafkajs gave up on must not run on writing nothing: /healthz turns red and
// the process exits non-zero, so its supervisor restarts it. The consumer is made to die as Kafka
// kills it for real: a member of its group already uses another assignment protocol
// (INCONSISTENT_GROUP_PROTOCOL, which kafkajs does not retry).
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { deadGroup, freePort, expectRedThenExit, spawnMain, testLog, useKafkaAndDatabase } from "@vod/testing";
import { readEnv } from "./env.ts";
import { startWriter } from "./writer.ts";

const { kafka, producer, t } = useKafkaAndDatabase();

const deadWriterGroup = () => deadGroup(kafka, "wdead", (c) => [c.streamSnapshots, c.vodFetchResults]);

describe("writer with a dead consumer", () => {
  it("reports it as fatal and turns unhealthy", async () => {
    const { prefix, groupId } = await deadWriterGroup();
    const fatal: string[] = [];
    const env = readEnv({ KAFKA_BROKERS: inject("kafkaBrokers").join(","), TOPIC_PREFIX: prefix, GROUP_ID: groupId });
    const writer = await startWriter(env, { kafka, producer, db: t.db, log: testLog, onFatal: (r) => fatal.push(r) });
    try {
      const t0 = Date.now();
      while (fatal.length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100));
      expect(fatal).toEqual(["consumer stopped"]);
      expect(writer.healthy()).toBe(false);
    } finally {
      await writer.stop();
    }
  }, 40_000);

  it("the process answers /healthz 503, then exits 1", async () => {
    const { prefix, groupId } = await deadWriterGroup();
    const port = await freePort();
    const main = spawnMain(fileURLToPath(new URL("./main.ts", import.meta.url)), {
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: t.url,
      TOPIC_PREFIX: prefix,
      GROUP_ID: groupId,
      OPS_PORT: String(port),
      LOG_LEVEL: "silent",
      FATAL_EXIT_DELAY: "2s",
    });
    await expectRedThenExit(main, port);
  }, 60_000);
});
