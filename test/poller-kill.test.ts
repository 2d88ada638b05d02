// kill -9 of the live-poller in the middle of a sweep: the sweep's snapshots are in Kafka but its
// marker never is, so delay must not take it as complete. The first poller sweeps every 4 clock
// minutes (longer than END_AFTER), so had the partial sweep counted, the streams it did not reach
// would have ended.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamSnapshot, SweepMarker } from "@vod/kafka";
import {
  readAll,
  sharedClock,
  simulatorOn,
  testLog,
  uniqueName,
  until,
  untilClock,
  type Child,
  type SharedClock,
} from "@vod/testing";
import type { Simulator } from "@vod/twitch-sim";
import type { StartedDelay } from "../services/delay/src/index.ts";
import { brokers, MIN, startTestDelay, testBroker } from "./fixtures/delay-pipeline.ts";
import { spawnService } from "./fixtures/services.ts";

const STREAMERS = 120;
let shared: SharedClock;
let sim: Simulator;
let delay: StartedDelay;
let poller: Child | undefined;
const prefix = `${uniqueName("pk")}.`;
const kafka = () => testBroker("poller-kill-test");

let partialSweep = "";
let snapshots: StreamSnapshot[] = [];
let markers: SweepMarker[] = [];
let releases = 0;

beforeAll(async () => {
  shared = sharedClock(30);
  const streamers = Array.from({ length: STREAMERS }, (_, i) => ({
    login: `p_${i}`,
    id: String(900 + i),
    viewers: 20 + i * 3,
    sessions: [{ start: "+0s" }],
  }));
  // Slow pages, so a sweep takes seconds and can be cut in the middle.
  sim = await simulatorOn(shared, { streams: 0, streamers, faults: [{ kind: "latency", target: "gql", ms: 800 }] });
  const common = { KAFKA_BROKERS: brokers(), TOPIC_PREFIX: prefix, OPS_PORT: "0", ...shared.env };
  delay = await startTestDelay({ TOPIC_PREFIX: prefix, GROUP_ID: uniqueName("delay") }, shared);
  const pollerEnv = { ...common, GQL_ENDPOINT: sim.gqlUrl, GQL_RATE: "50" };
  poller = spawnService("live-poller", { ...pollerEnv, SWEEP_INTERVAL: "4m" });
  const trackers = () => [...delay.delay.trackers().values()];
  const vodCount = () => trackers().reduce((n, t) => n + t.vods.size, 0);
  const sweepsSeen = () => new Set(trackers().flatMap((t) => [...t.vods.keys()].flatMap((k) => t.sweepsOf(k))));
  await until(() => vodCount() === STREAMERS && sweepsSeen().size === 1, 60_000, "first sweep handled");
  const first = [...sweepsSeen()][0]!;
  // The second sweep has published its first page(s): kill the poller there.
  await until(() => sweepsSeen().size === 2, 60_000, "second sweep started");
  poller.child.kill("SIGKILL");
  await poller.exited;
  partialSweep = [...sweepsSeen()].find((s) => s !== first)!;

  // No poller for more than END_AFTER, then a new one sweeping every minute.
  await untilClock(shared, shared.clock.now() + 4 * MIN);
  poller = spawnService("live-poller", { ...pollerEnv, SWEEP_INTERVAL: "1m" });
  // Evaluated per partition: three complete sweeps in every partition holding streamers.
  const partitions = () => trackers().filter((t) => t.vods.size > 0);
  await until(
    () => partitions().every((t) => t.counters.sweepsEvaluated >= 3),
    60_000,
    "two sweeps of the new poller evaluated",
  );
  poller.child.kill("SIGTERM");
  await poller.exited;
  poller = undefined;
  const k = kafka();
  snapshots = (await readAll(k, `${prefix}twitch.stream-snapshots`, testLog)).map((r) => r.value as StreamSnapshot);
  markers = (await readAll(k, `${prefix}twitch.sweeps`, testLog)).map((r) => r.value as SweepMarker);
  releases = (await readAll(k, `${prefix}twitch.vod-fetch-requests`, testLog)).length;
}, 150_000);

afterAll(async () => {
  poller?.child.kill("SIGKILL");
  await delay?.close();
  await sim?.close();
});

describe("live-poller killed with -9 mid-sweep", () => {
  it("left a partial sweep: some snapshots, no marker", () => {
    const partial = snapshots.filter((s) => s.sweepId === partialSweep);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(STREAMERS);
    expect(markers.some((m) => m.sweepId === partialSweep)).toBe(false);
    expect(new Set(markers.filter((m) => m.complete).map((m) => m.sweepId)).size).toBeGreaterThanOrEqual(3);
  });

  it("delay did not take the partial sweep as complete: nothing ended, nothing released", () => {
    const counters = delay.delay.counters();
    const vods = [...delay.delay.trackers().values()].flatMap((t) => [...t.vods.values()]);
    expect(counters.endedAbsent).toBe(0);
    expect(counters.revived).toBe(0);
    expect(vods.every((v) => v.status === "live")).toBe(true);
    expect(vods).toHaveLength(STREAMERS);
    expect(releases).toBe(0);
  });
});
