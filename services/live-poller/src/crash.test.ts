// The sweep loop dying (not a failed sweep, which is recorded in its marker) must end the process
// with a non-zero code, so its supervisor restarts it; /healthz says so in the meantime.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { childEnv, freePort, uniqueName } from "@vod/testing";

describe("live-poller process", () => {
  it("answers /healthz unhealthy, then exits non-zero, when its sweep loop throws", async () => {
    const port = await freePort();
    const entry = fileURLToPath(new URL("./__fixtures__/crashing-main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      env: childEnv({
        KAFKA_BROKERS: inject("kafkaBrokers").join(","),
        TOPIC_PREFIX: `${uniqueName("crash")}.`,
        OPS_PORT: String(port),
        LOG_LEVEL: "silent",
        CRASH_EXIT_DELAY: "3s",
        GQL_ENDPOINT: "http://127.0.0.1:9/gql",
      }),
      stdio: ["ignore", "inherit", "inherit"],
    });
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code, signal) => {
        exitCode = code ?? (signal ? -1 : null);
        resolve(exitCode);
      }),
    );
    const health: number[] = [];
    const started = Date.now();
    while (exitCode === undefined && Date.now() - started < 60_000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        health.push(res.status);
        await res.body?.cancel();
      } catch {
        // not listening yet, or gone
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await exited).toBe(1);
    expect(health).toContain(200);
    expect(health.at(-1)).toBe(503);
  }, 90_000);
});
