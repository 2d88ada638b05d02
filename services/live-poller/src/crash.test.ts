// The sweep loop dying (not a failed sweep, which is recorded in its marker) must end the process
// with a non-zero code, so its supervisor restarts it; /healthz says so in the meantime.
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { freePort, healthUntilExit, spawnMain, uniqueName } from "@vod/testing";

describe("live-poller process", () => {
  it("answers /healthz unhealthy, then exits non-zero, when its sweep loop throws", async () => {
    const port = await freePort();
    const entry = fileURLToPath(new URL("./__fixtures__/crashing-main.ts", import.meta.url));
    const main = spawnMain(entry, {
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      TOPIC_PREFIX: `${uniqueName("crash")}.`,
      OPS_PORT: String(port),
      LOG_LEVEL: "silent",
      CRASH_EXIT_DELAY: "3s",
      GQL_ENDPOINT: "http://127.0.0.1:9/gql",
    });
    const health = await healthUntilExit(main, port, 60_000);
    expect(await main.exited).toBe(1);
    expect(health).toContain(200);
    expect(health.at(-1)).toBe(503);
  }, 90_000);
});
