// A writer whose consumer kafkajs gave up on must not run on writing nothing: /healthz turns red and
// the process exits non-zero, so its supervisor restarts it. The consumer is made to die as Kafka
// kills it for real: a member of its group already uses another assignment protocol
// (INCONSISTENT_GROUP_PROTOCOL, which kafkajs does not retry).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCatalog, createProducer, type TypedProducer } from "@vod/kafka";
import {
  childEnv,
  createTestTopics,
  freePort,
  freshDatabase,
  holdGroupAgainstServices,
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

describe("writer with a dead consumer", () => {
  it("reports it as fatal and turns unhealthy", async () => {
    const prefix = `${uniqueName("wdead")}.`;
    const catalog = createCatalog(prefix);
    await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults]);
    const groupId = uniqueName("g");
    const holder = await holdGroupAgainstServices(kafka, groupId, catalog.streamSnapshots.name);
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
      await holder.disconnect();
    }
  }, 40_000);

  it("the process answers /healthz 503, then exits 1", async () => {
    const prefix = `${uniqueName("wdead")}.`;
    const catalog = createCatalog(prefix);
    await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults]);
    const groupId = uniqueName("g");
    const holder = await holdGroupAgainstServices(kafka, groupId, catalog.streamSnapshots.name);
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./main.ts", import.meta.url))], {
      env: childEnv({
        KAFKA_BROKERS: inject("kafkaBrokers").join(","),
        DATABASE_URL: t.url,
        TOPIC_PREFIX: prefix,
        GROUP_ID: groupId,
        OPS_PORT: String(port),
        LOG_LEVEL: "silent",
        FATAL_EXIT_DELAY: "2s",
      }),
      stdio: ["ignore", "inherit", "inherit"],
    });
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code, signal) => resolve((exitCode = code ?? (signal ? -1 : null)))),
    );
    const health: number[] = [];
    try {
      const t0 = Date.now();
      while (exitCode === undefined && Date.now() - t0 < 40_000) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          health.push(res.status);
          await res.body?.cancel();
        } catch {
          // not listening yet, or gone
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(exitCode).toBe(1);
      expect(health).toContain(503);
      expect(await exited).toBe(1);
    } finally {
      if (exitCode === undefined) child.kill("SIGKILL");
      await holder.disconnect();
    }
  }, 60_000);
});
