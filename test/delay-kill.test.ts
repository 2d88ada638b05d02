// kill -9 of delay mid-run: two identical pipelines watch the same simulated world on one compressed
// clock; pipeline B's delay is a child process killed twice (with VODs pending, and right after its
// first releases). Its releases must equal pipeline A's: same VODs, none early, no duplicates.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka, type VodFetchRequest } from "@vod/kafka";
import { testLog, uniqueName } from "@vod/testing";
import type { Simulator } from "@vod/twitch-sim";
import {
  start as startDelay,
  readEnv as delayEnv,
  releaseTime,
  type StartedDelay,
} from "../services/delay/src/index.ts";
import {
  readAll,
  sharedClock,
  sightings,
  simulatorOn,
  spawnService,
  until,
  untilClock,
  type Child,
  type SharedClock,
} from "../services/delay/src/__fixtures__/harness.ts";
import { start as startPoller, readEnv as pollerEnv, type StartedPoller } from "../services/live-poller/src/index.ts";

const MIN = 60_000;
const timing = { muteIntervalMs: 10 * MIN, muteMinGapMs: 1 * MIN, muteMarginMs: 2 * MIN };
const periods = { END_AFTER: "3m", MUTE_INTERVAL: "10m", MUTE_MIN_GAP: "1m", MUTE_MARGIN: "2m", RELEASE_POLL: "50ms" };

let shared: SharedClock;
let sim: Simulator;
const pollers: StartedPoller[] = [];
let delayA: StartedDelay;
let delayB: Child | undefined;
const prefixA = `${uniqueName("dka")}.`;
const prefixB = `${uniqueName("dkb")}.`;
const groupB = uniqueName("delay-b");
const kafka = () => createKafka({ brokers: inject("kafkaBrokers"), clientId: "delay-kill-test", log: testLog });
type Release = { value: VodFetchRequest; at: number };
const releasesOf = async (prefix: string): Promise<Release[]> =>
  (await readAll(kafka(), `${prefix}twitch.vod-fetch-requests`, testLog)).map((r) => ({
    value: r.value as VodFetchRequest,
    at: shared.at(r.timestamp),
  }));
const keyOf = (v: { streamId: string; startTime: string }) => `${v.streamId}@${v.startTime}`;

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
/** Set when B had not released as many VODs as A within a minute of real time. */
let catchingUp: string | undefined;
let a: Release[] = [];
let b: Release[] = [];
/** A's releases of the VODs B's poller saw too. */
let expected: Release[] = [];
let seenByB = { keys: new Set<string>(), firstAt: 0 };

beforeAll(async () => {
  shared = sharedClock(30);
  const t0 = shared.clock.now();
  sim = await simulatorOn(shared, { streams: 0, streamers });
  const common = { KAFKA_BROKERS: inject("kafkaBrokers").join(","), OPS_PORT: "0", LOG_LEVEL: "silent", ...shared.env };
  const pollerCommon = { ...common, GQL_ENDPOINT: sim.gqlUrl, SWEEP_INTERVAL: "1m", GQL_RATE: "50" };
  delayA = await startDelay(
    delayEnv({ ...common, ...periods, TOPIC_PREFIX: prefixA, GROUP_ID: uniqueName("delay-a") }),
    testLog,
    shared.clock,
  );
  const envB = {
    ...common,
    ...periods,
    TOPIC_PREFIX: prefixB,
    GROUP_ID: groupB,
    // TEST_LOG_LEVEL=debug shows the instances' own account of a run.
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    SESSION_TIMEOUT: "6s",
  };
  delayB = spawnService("delay", envB);
  pollers.push(await startPoller(pollerEnv({ ...pollerCommon, TOPIC_PREFIX: prefixA }), testLog, shared.clock));
  pollers.push(await startPoller(pollerEnv({ ...pollerCommon, TOPIC_PREFIX: prefixB }), testLog, shared.clock));

  const killAndRestart = async () => {
    delayB!.child.kill("SIGKILL");
    await delayB!.exited;
    kills++;
    delayB = spawnService("delay", envB);
  };
  // With ended VODs pending release.
  await untilClock(shared, t0 + 9 * MIN);
  await killAndRestart();
  // Right after its first releases went out.
  await until(async () => (await releasesOf(prefixB)).length > 0, 60_000, "first releases of B");
  await killAndRestart();
  await untilClock(shared, t0 + 16 * MIN);
  for (const p of pollers) await p.close();
  a = await releasesOf(prefixA);
  // B's poller started a moment after A's: a VOD that ended in between is A's alone.
  seenByB = await sightings(kafka(), prefixB, testLog);
  expected = a.filter((r) => seenByB.keys.has(keyOf(r.value)));
  // A restarted delay restores its partitions once the group has given them to it (after the dead
  // member's session), so under load it may take a while to catch up.
  await until(async () => (b = await releasesOf(prefixB)).length >= expected.length, 60_000, "B catching up").catch(
    (e: unknown) => {
      console.log(
        JSON.stringify({
          a: a.map((r) => [r.value.login, r.value.startTime, r.value.releaseAt]),
          b: b.map((r) => [r.value.login, r.value.startTime, r.value.releaseAt]),
        }),
      );
      catchingUp = String(e);
    },
  );
}, 180_000);

afterAll(async () => {
  delayB?.child.kill("SIGTERM");
  await delayB?.exited;
  await delayA?.close();
  await sim?.close();
});

describe("delay killed with -9 mid-run", () => {
  it("killed B twice and released at least ten VODs in A", () => {
    expect(kills).toBe(2);
    expect(a.length).toBeGreaterThanOrEqual(10);
  });

  it("released the same set of VODs as the run without the kill", () => {
    expect(catchingUp).toBeUndefined();
    expect(new Set(b.map((r) => keyOf(r.value)))).toEqual(new Set(expected.map((r) => keyOf(r.value))));
    // What only A released ended before B's poller first looked.
    for (const r of a.filter((x) => !seenByB.keys.has(keyOf(x.value))))
      expect(Date.parse(r.value.lastSeen), keyOf(r.value)).toBeLessThan(seenByB.firstAt);
  });

  it("sent no duplicates and nothing early after the restarts", () => {
    const keys = b.map((r) => keyOf(r.value));
    const duplicates = keys.length - new Set(keys).size;
    expect(duplicates).toBe(0);
    for (const { value, at } of b) {
      const computed = releaseTime(Date.parse(value.lastSeen), timing);
      expect(at).toBeGreaterThanOrEqual(computed);
      expect(Date.parse(value.releaseAt)).toBeGreaterThanOrEqual(computed);
    }
  });
});
