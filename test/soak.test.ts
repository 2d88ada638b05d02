// The soak, short: every service against the realistic world at a hundredth of Twitch, an hour of
// warm-up, then three simulated hours with the simulator's faults and a kill -9 of each service,
// judged like `npm run soak` (broker and PostgreSQL restarts are left to the benchmark: the other
// test files share that broker and database).
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { childEnv, freePort, testLog } from "@vod/testing";
import { runSoak } from "../bench/soak/run.ts";

describe("soak, short", () => {
  // The invariants that hold at any scale and any backlog. Whether everything due is archived, and
  // how fast, is the benchmark's goal (`npm run soak`): three measured hours at this scale are mostly
  // the fetcher's first hours, when most streamers are still unknown to it (docs/soak.md).
  it("archives nothing early, truncated or twice, stays within the CDN budget and keeps archiving through faults and kill -9", async () => {
    const lines: string[] = [];
    const r = await runSoak({
      root: fileURLToPath(new URL("..", import.meta.url)),
      log: testLog,
      scale: 0.01,
      // Three hours: VODs due in the last hour are not judged, and due times fall just past the hour.
      hours: 3,
      learnHours: 6,
      warmupHours: 1,
      warmupBudget: 10,
      speed: 60,
      instances: 1,
      seed: 5,
      simPort: await freePort(),
      meterPort: await freePort(),
      brokers: inject("kafkaBrokers").join(","),
      redisUrl: inject("redisUrl"),
      adminDatabaseUrl: inject("databaseUrl"),
      infraFaults: false,
      progress: (line) => lines.push(line),
      env: childEnv({ LOG_LEVEL: "warn" }),
    });
    const summary = JSON.stringify({ ...r, hours: undefined, faults: undefined }, null, 1);
    expect(r.vods, summary).toBeGreaterThan(20);
    expect(r.faults.map((f) => f.name)).toEqual(
      expect.arrayContaining(["kill -9 of one instance of each service", "CDN down but one domain, 20 min"]),
    );
    expect(Object.values(r.restarts).filter((n) => n > 0).length, summary).toBeGreaterThanOrEqual(4);
    expect(r.early, summary).toBe(0);
    expect(r.truncated, summary).toBe(0);
    expect(r.duplicates, summary).toBe(0);
    expect(r.busiestSecond, summary).toBeLessThanOrEqual(Math.ceil(r.limitPerSecond));
    // Archiving went on in the measured window, faults and restarts included.
    expect(
      r.hours.reduce((n, h) => n + h.archived, 0),
      summary,
    ).toBeGreaterThan(3);
  }, 600_000);
});
