import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadEnv } from "./env.ts";
import { startSimulator } from "./server.ts";
import { optionsFromScenario } from "./simulator-options.ts";
import { Stats } from "./stats.ts";

describe("scenario files", () => {
  it("parses the example scenario into simulator options with relative times resolved at start", async () => {
    const raw: unknown = JSON.parse(readFileSync(new URL("../scenarios/outage.json", import.meta.url), "utf8"));
    const options = optionsFromScenario(raw);
    expect(options).toMatchObject({ seed: 42, streams: 300, speed: 60, muteIntervalMs: 3_600_000 });
    const sim = await startSimulator({ ...options, speed: undefined, streams: 0 }); // virtual clock for the test
    try {
      expect(sim.clock.now()).toBe(Date.UTC(2025, 0, 6, 12));
      const malek = sim.vods({ login: "malek_04" });
      expect(malek).toHaveLength(1);
      expect(malek[0]).toMatchObject({ startTime: "2025-01-06T10:30:00Z", live: true });
      sim.clock.advance(31 * 60_000);
      const restarted = sim.vods({ login: "malek_04" });
      expect(restarted[1]).toMatchObject({ streamId: restarted[0]?.streamId, variant: "seconds", ts: 0 });
      expect(sim.faults.list().map((f) => [f.id, f.active])).toEqual([
        ["outage", false],
        ["waf", true],
        ["flaky-pages", true],
      ]);
      expect(sim.faults.list()[0]?.from).toBe("2025-01-06T14:00:00Z");
    } finally {
      await sim.close();
    }
  });

  it("rejects unknown fault kinds and malformed streamers", () => {
    expect(() => optionsFromScenario({ faults: [{ kind: "meteor" }] })).toThrow();
    expect(() => optionsFromScenario({ streamers: [{ login: "bad login!", viewers: 1 }] })).toThrow();
  });

  it("reads SIM_* defaults from the environment", () => {
    expect(loadEnv({ SIM_PORT: "8901", SIM_MUTE_INTERVAL: "10m", SIM_SPEED: "60" })).toMatchObject({
      SIM_PORT: 8901,
      SIM_MUTE_INTERVAL: 600_000,
      SIM_SPEED: 60,
      SIM_HOST: "127.0.0.1",
    });
    expect(loadEnv({}).SIM_MUTE_INTERVAL).toBeUndefined();
    expect(() => loadEnv({ SIM_PORT: "http" })).toThrow(/SIM_PORT/);
  });
});

describe("stats", () => {
  it("keeps the largest number of CDN requests seen in any one-second window of wall time", () => {
    let wall = 0;
    const stats = new Stats(() => wall);
    for (const t of [0, 100, 900, 1500, 1600, 1700, 1800, 3000]) {
      wall = t;
      stats.cdnArrival();
    }
    // 900, 1500, 1600, 1700, 1800 fall inside (800, 1800]; only the last four inside (900, 1800].
    expect(stats.snapshot().cdn).toEqual({ requests: 8, maxPerSecond: 5, maxIn900ms: 4 });
  });
});
