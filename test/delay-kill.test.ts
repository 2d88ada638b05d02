// kill -9 of delay mid-run: two identical pipelines watch the same simulated world on one compressed
// clock; pipeline B's delay is a child process killed twice (with VODs pending, and right after its
// first releases). Its releases must equal pipeline A's: same VODs, none early, no duplicates.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until, untilClock, type Child } from "@vod/testing";
import { spawnService } from "./fixtures/services.ts";
import { compareTwins, expectOnceNotEarly, expectSameReleases, MIN, twinPipelines } from "./fixtures/delay-pipeline.ts";
import type { Compared, Twin } from "./fixtures/delay-pipeline.ts";

let twin: Twin | undefined;
let delayB: Child | undefined;

const streamers = Array.from({ length: 12 }, (_, i) => ({
  login: `s_${i}`,
  id: String(700 + i),
  viewers: 1000 - i * 50,
  // Ends spread over the run; s_10 restarts under the same stream id; s_11 stays live. Streams start two
  // minutes in, once both pollers sweep: one that ended before its first sweep a poller never sees.
  sessions:
    i === 10
      ? [
          { start: "+2m", duration: "2m" },
          { start: "+4m20s", duration: "4m", sameStreamId: true },
        ]
      : i === 11
        ? [{ start: "+2m" }]
        : [{ start: "+2m", duration: `${60 + i * 35}s` }],
}));

let kills = 0;
let run: Compared;

beforeAll(async () => {
  const t = (twin = await twinPipelines("dk", 30, { streams: 0, streamers }));
  const { t0 } = t;
  delayB = spawnService("delay", t.envB);
  await t.startPollers();

  const killAndRestart = async () => {
    delayB!.child.kill("SIGKILL");
    await delayB!.exited;
    kills++;
    delayB = spawnService("delay", t.envB);
  };
  // With ended VODs pending release.
  await untilClock(t.shared, t0 + 9 * MIN);
  await killAndRestart();
  // Right after its first releases went out.
  await until(async () => (await t.releasesOf(t.prefixB)).length > 0, 60_000, "first releases of B");
  await killAndRestart();
  await untilClock(t.shared, t0 + 16 * MIN);
  await t.stopPollers();
  run = await compareTwins(t);
}, 180_000);

afterAll(async () => {
  delayB?.child.kill("SIGTERM");
  await delayB?.exited;
  await twin?.close();
});

describe("delay killed with -9 mid-run", () => {
  it("killed B twice and released at least ten VODs in A", () => {
    expect(kills).toBe(2);
    expect(run.a.length).toBeGreaterThanOrEqual(10);
  });

  it("released the same set of VODs as the run without the kill", () => {
    expectSameReleases(run);
  });

  it("sent no duplicates and nothing early after the restarts", () => {
    expectOnceNotEarly(run.b);
  });
});
