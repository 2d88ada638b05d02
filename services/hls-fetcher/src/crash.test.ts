// A fetcher whose consumer kafkajs gave up on must not run on fetching nothing while holding its
// place: /healthz turns red and the process exits non-zero, so its supervisor restarts it. The
// consumer is made to die as Kafka kills it for real: a member of its group already uses another
// assignment protocol (INCONSISTENT_GROUP_PROTOCOL, which kafkajs does not retry).
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { deadGroup, freePort, expectRedThenExit, spawnMain, testLog, useKafkaAndDatabase } from "@vod/testing";
import { readEnv } from "./env.ts";
import { startFetcher } from "./service.ts";

const { kafka, producer, t } = useKafkaAndDatabase();

/** A fetcher's settings for a group it cannot join (see `deadGroup`). */
async function deadFetcherGroup(): Promise<Record<string, string>> {
  const { prefix, groupId } = await deadGroup(kafka, "fdead", (c) => [c.vodFetchRequests, c.vodFetchResults]);
  const vars = {
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: t.url,
    TOPIC_PREFIX: prefix,
    GROUP_ID: groupId,
    GQL_LOOKUP: "false",
    CDN_URL_TEMPLATE: "http://127.0.0.1:9/{domain}/",
  };
  return vars;
}

describe("hls-fetcher with a dead consumer", () => {
  it("reports it as fatal and its consumer is unhealthy", async () => {
    const vars = await deadFetcherGroup();
    const fatal: string[] = [];
    const clock = { now: () => Date.now(), realDelay: (ms: number) => ms };
    const fetcher = await startFetcher(readEnv(vars), {
      kafka,
      producer,
      db: t.db,
      clock,
      log: testLog,
      onFatal: (r) => fatal.push(r),
    });
    try {
      const t0 = Date.now();
      while (fatal.length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100));
      expect(fatal).toEqual(["consumer stopped"]);
      expect(fetcher.consumer.healthy()).toBe(false);
    } finally {
      await fetcher.stop();
    }
  }, 40_000);

  it("the process answers /healthz 503, then exits 1", async () => {
    const vars = await deadFetcherGroup();
    const port = await freePort();
    const main = spawnMain(fileURLToPath(new URL("./main.ts", import.meta.url)), {
      ...vars,
      OPS_PORT: String(port),
      LOG_LEVEL: "silent",
      FATAL_EXIT_DELAY: "2s",
    });
    await expectRedThenExit(main, port);
  }, 60_000);
});
