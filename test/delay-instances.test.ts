// Several delay instances in one consumer group, against the simulator on a compressed clock. Two
// pipelines watch the same world: A with one delay, B with two delays in one group (child
// processes). B's instances are then taken through a kill -9 of one of them, its return, and a
// rolling restart with overlap (a new instance joins before each old one stops). B must release
// exactly what A releases: the same VODs, none early, none twice.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AssignerProtocol } from "kafkajs";
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
const instances: Child[] = [];
const prefixA = `${uniqueName("dia")}.`;
const prefixB = `${uniqueName("dib")}.`;
const groupB = uniqueName("delay-b");
const kafka = () => createKafka({ brokers: inject("kafkaBrokers"), clientId: "delay-instances-test", log: testLog });
type Release = { value: VodFetchRequest; at: number };
const releasesOf = async (prefix: string): Promise<Release[]> =>
  (await readAll(kafka(), `${prefix}twitch.vod-fetch-requests`, testLog)).map((r) => ({
    value: r.value as VodFetchRequest,
    at: shared.at(r.timestamp),
  }));
const keyOf = (v: { streamId: string; startTime: string }) => `${v.streamId}@${v.startTime}`;

// 30 streamers, so every partition holds some; ends spread over the whole run, two same-id restarts, two stay live.
const streamers = Array.from({ length: 30 }, (_, i) => ({
  login: `m_${i}`,
  id: String(3100 + i * 7),
  viewers: 900 - i * 20,
  sessions:
    i % 15 === 10
      ? [
          { start: "+0s", duration: "2m" },
          { start: "+2m20s", duration: "5m", sameStreamId: true },
        ]
      : i % 15 === 11
        ? [{ start: "+0s" }]
        : [{ start: "+0s", duration: `${40 + i * 23}s` }],
}));

/** Each member's partitions of the snapshots topic, as the coordinator has them. */
async function members(): Promise<{ state: string; partitions: number[][] }> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupB]);
    const g = groups[0]!;
    return {
      state: g.state,
      partitions: g.members.map((m) =>
        (
          AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[
            `${prefixB}twitch.stream-snapshots`
          ] ?? []
        )
          .slice()
          .sort(),
      ),
    };
  } finally {
    await admin.disconnect();
  }
}
let lastSettled: number[][] = [];
const settledWith = (n: number) => async () => {
  const m = await members();
  const settled =
    m.state === "Stable" &&
    m.partitions.length === n &&
    m.partitions.every((p) => p.length > 0) &&
    m.partitions.flat().length === 6;
  if (settled) lastSettled = m.partitions;
  return settled;
};

const events: string[] = [];
/** Set when B had not released as many VODs as A within a minute of real time. */
let catchingUp: string | undefined;
let split: number[][] = [];
let a: Release[] = [];
let b: Release[] = [];
/** A's releases of the VODs B's poller saw too. */
let expected: Release[] = [];
let seenByB = { keys: new Set<string>(), firstAt: 0 };

beforeAll(async () => {
  shared = sharedClock(20);
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
  const spawn = () => {
    const c = spawnService("delay", envB);
    instances.push(c);
    return c;
  };
  const stop = async (c: Child, signal: "SIGKILL" | "SIGTERM") => {
    c.child.kill(signal);
    const code = await c.exited;
    events.push(`${signal}:${code}`);
  };
  const first = spawn();
  const second = spawn();
  await until(settledWith(2), 60_000, "two instances sharing the partitions");
  // The split as the settled check saw it: a rebalance may begin again right after (a loaded machine, a late heartbeat).
  split = lastSettled;
  pollers.push(await startPoller(pollerEnv({ ...pollerCommon, TOPIC_PREFIX: prefixA }), testLog, shared.clock));
  pollers.push(await startPoller(pollerEnv({ ...pollerCommon, TOPIC_PREFIX: prefixB }), testLog, shared.clock));

  // kill -9 of one of the two with ended VODs pending; the other takes its partitions over.
  await untilClock(shared, t0 + 5 * MIN);
  await stop(first, "SIGKILL");
  await until(settledWith(1), 60_000, "the survivor holding every partition");
  // It comes back: the partitions are split again.
  const third = spawn();
  await until(settledWith(2), 60_000, "two instances again");
  // Rolling restart with overlap: each new instance joins before an old one stops.
  await untilClock(shared, t0 + 9 * MIN);
  spawn();
  await until(settledWith(3), 60_000, "three instances during the roll");
  await stop(second, "SIGTERM");
  await until(settledWith(2), 60_000, "two after the first stop");
  spawn();
  await until(settledWith(3), 60_000, "three again");
  await stop(third, "SIGTERM");
  await until(settledWith(2), 60_000, "two after the roll");

  await untilClock(shared, t0 + 17 * MIN);
  for (const p of pollers) await p.close();
  // The last streams end near 12 min: ended by absence by 16, due at the 22-minute boundary.
  await untilClock(shared, t0 + 24 * MIN);
  a = await releasesOf(prefixA);
  // B's poller started a moment after A's: a VOD that ended in between is A's alone.
  seenByB = await sightings(kafka(), prefixB, testLog);
  expected = a.filter((r) => seenByB.keys.has(keyOf(r.value)));
  // Not thrown: the checks below then name what B is missing.
  await until(async () => (b = await releasesOf(prefixB)).length >= expected.length, 60_000, "B catching up").catch(
    (err: unknown) => (catchingUp = String(err)),
  );
  // Nothing more may follow (a duplicate would come late).
  await new Promise((r) => setTimeout(r, 2_000));
  b = await releasesOf(prefixB);
  const inB = new Set(b.map((r) => keyOf(r.value)));
  const missing = expected
    .filter((r) => !inB.has(keyOf(r.value)))
    .map((r) => [r.value.login, keyOf(r.value), r.value.lastSeen]);
  // What B lacks, for the instances' own account of it (TEST_LOG_LEVEL=debug).
  if (missing.length > 0) console.error(`B never released: ${JSON.stringify(missing)}`);
}, 300_000);

afterAll(async () => {
  for (const c of instances) c.child.kill("SIGTERM");
  await Promise.all(instances.map((c) => c.exited));
  await delayA?.close();
  await sim?.close();
});

describe("several delay instances in one group", () => {
  it("shared the partitions between them, and went through a kill -9 and a rolling restart", () => {
    expect(split).toHaveLength(2);
    expect(split.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events).toEqual(["SIGKILL:-1", "SIGTERM:0", "SIGTERM:0"]);
  });

  it("released the same VODs as one instance did", () => {
    expect(catchingUp).toBeUndefined();
    expect(expected.length).toBeGreaterThanOrEqual(20);
    expect(new Set(b.map((r) => keyOf(r.value)))).toEqual(new Set(expected.map((r) => keyOf(r.value))));
    // What only A released ended before B's poller first looked.
    for (const r of a.filter((x) => !seenByB.keys.has(keyOf(x.value))))
      expect(Date.parse(r.value.lastSeen), keyOf(r.value)).toBeLessThan(seenByB.firstAt);
  });

  it("released nothing twice and nothing early", () => {
    const keys = b.map((r) => keyOf(r.value));
    expect(keys.length - new Set(keys).size).toBe(0);
    for (const { value, at } of b) {
      const computed = releaseTime(Date.parse(value.lastSeen), timing);
      expect(at).toBeGreaterThanOrEqual(computed);
      expect(Date.parse(value.releaseAt)).toBeGreaterThanOrEqual(computed);
    }
  });
});
