// The live-poller and delay against the simulator and the real broker, on a clock 30 times faster than
// real time and shorter periods (sweep 1m, end after 3m, mute runs every 10m, gap 1m, margin 2m).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  partitionOf,
  STREAM_PARTITIONS,
  type StreamSnapshot,
  type SweepMarkerV2,
  type VodFetchRequest,
} from "@vod/kafka";
import { readAll, sharedWorld, testLog, uniqueName, untilClock, vodKey, type SharedClock } from "@vod/testing";
import type { Simulator } from "@vod/twitch-sim";
import { releaseTime, type StartedDelay } from "../services/delay/src/index.ts";
import type { StartedPoller } from "../services/live-poller/src/index.ts";
import { DELAY_TIMING as timing, MIN, startTestDelay, startTestPoller, testBroker } from "./fixtures/delay-pipeline.ts";

const SPEED = 30;

let shared: SharedClock;
let sim: Simulator;
let poller: StartedPoller;
let delay: StartedDelay;
const prefix = `${uniqueName("dp")}.`;
const kafka = () => testBroker("delay-pipeline-test");

let snapshots: StreamSnapshot[] = [];
let markers: SweepMarkerV2[] = [];
let markerPartitions: number[] = [];
let releases: { value: VodFetchRequest; at: number; partition: number }[] = [];
let stoppedAt = 0;

const streamers = [
  { login: "ends_early", id: "101", viewers: 500, sessions: [{ start: "+0s", duration: "1m30s" }] },
  { login: "ends_in_outage", id: "102", viewers: 400, sessions: [{ start: "+0s", duration: "4m" }] },
  {
    login: "restarts",
    id: "103",
    viewers: 300,
    sessions: [
      { start: "+0s", duration: "1m20s" },
      { start: "+1m40s", duration: "6m", sameStreamId: true },
    ],
  },
  { login: "stays_live", id: "104", viewers: 200, sessions: [{ start: "+0s" }] },
  // Below TRACK_MIN_VIEWERS (5): never published.
  { login: "few_viewers", id: "105", viewers: 3, sessions: [{ start: "+0s", duration: "2m" }] },
  { login: "late_start", id: "106", viewers: 150, sessions: [{ start: "+30s", duration: "7m50s" }] },
  { login: "ends_near_boundary", id: "107", viewers: 120, sessions: [{ start: "+0s", duration: "9m30s" }] },
];

beforeAll(async () => {
  // Three sweeps and more without GQL, while some streams are live and one ends.
  const world = await sharedWorld(SPEED, {
    streams: 0,
    streamers,
    faults: [{ kind: "down", target: "gql", from: "+2m30s", until: "+6m", status: 503 }],
  });
  ({ shared, sim } = world);
  const { t0 } = world;
  delay = await startTestDelay({ TOPIC_PREFIX: prefix, GROUP_ID: uniqueName("delay") }, shared);
  poller = await startTestPoller(shared, sim, {
    TOPIC_PREFIX: prefix,
    GQL_RETRIES: "1",
    GQL_BACKOFF_INITIAL: "20ms",
    GQL_TIMEOUT: "2s",
  });
  await untilClock(shared, t0 + 14 * MIN);
  stoppedAt = shared.clock.now();
  await poller.close();
  await delay.close();
  const k = kafka();
  snapshots = (await readAll(k, `${prefix}twitch.stream-snapshots`, testLog)).map((r) => r.value as StreamSnapshot);
  const markerRecords = await readAll(k, `${prefix}twitch.sweeps`, testLog);
  markers = markerRecords.map((r) => r.value as SweepMarkerV2);
  markerPartitions = markerRecords.map((r) => r.partition);
  releases = (await readAll(k, `${prefix}twitch.vod-fetch-requests`, testLog)).map((r) => ({
    value: r.value as VodFetchRequest,
    at: shared.at(r.timestamp),
    partition: r.partition,
  }));
}, 120_000);

afterAll(async () => {
  await sim?.close();
});

describe("live-poller → delay on the simulator", () => {
  it("each sweep has one marker per snapshot partition, on that partition, counting the sweep's snapshots there", () => {
    const sweeps = new Set(markers.map((m) => m.sweepId));
    for (const id of sweeps) {
      const of = markers.map((m, i) => ({ m, at: markerPartitions[i] })).filter(({ m }) => m.sweepId === id);
      expect(of.map(({ m }) => m.partition).sort()).toEqual(Array.from({ length: STREAM_PARTITIONS }, (_, p) => p));
      for (const { m, at } of of) {
        expect(m).toMatchObject({ v: 2, partition: at, partitions: STREAM_PARTITIONS });
        expect(m.count).toBe(snapshots.filter((s) => s.sweepId === id && partitionOf(s.streamerId) === at).length);
        expect(m.total).toBe(snapshots.filter((s) => s.sweepId === id).length);
      }
    }
  });

  it("swept every minute, and the GQL outage gave three or more incomplete sweeps in a row", () => {
    const summary = [...new Map(markers.map((m) => [m.sweepId, m])).values()];
    expect(summary.length).toBeGreaterThanOrEqual(12);
    const flags = summary
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
      .map((m) => (m.complete ? "C" : "i"))
      .join("");
    expect(flags).toMatch(/iii/);
    expect(markers.filter((m) => !m.complete).every((m) => /503/.test(m.reason ?? ""))).toBe(true);
    expect(snapshots.some((s) => s.login === "few_viewers")).toBe(false);
  });

  it("releases no VOD before its computed release time (every release checked)", () => {
    expect(releases.length).toBeGreaterThan(0);
    for (const { value, at } of releases) {
      const computed = releaseTime(Date.parse(value.lastSeen), timing);
      expect(Date.parse(value.releaseAt)).toBeGreaterThanOrEqual(computed);
      expect(at).toBeGreaterThanOrEqual(computed);
    }
  });

  it("releases every VOD that ended exactly once, within release time + 30 s, and none still live", () => {
    const truth = new Map(sim.vods().map((v) => [vodKey(v), v]));
    const seen = new Set(snapshots.map(vodKey));
    const lastSeen = new Map<string, number>();
    for (const s of snapshots)
      lastSeen.set(vodKey(s), Math.max(lastSeen.get(vodKey(s)) ?? 0, Date.parse(s.observedAt)));
    // Ended, and due early enough to be out before the run stopped (one VOD is due only at 12:22).
    const ended = [...seen].filter(
      (k) => truth.get(k)?.endedAt != null && releaseTime(lastSeen.get(k)!, timing) <= stoppedAt - MIN,
    );
    expect([...seen].filter((k) => truth.get(k)?.endedAt != null).length).toBe(6);
    const counts = new Map<string, number>();
    for (const r of releases) counts.set(vodKey(r.value), (counts.get(vodKey(r.value)) ?? 0) + 1);
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    expect(duplicates).toBe(0);
    expect([...counts.keys()].sort()).toEqual(ended.sort());
    // The sixth is due at 12:22: in the set too when a loaded machine stopped the run a minute late.
    expect(ended.length).toBeGreaterThanOrEqual(5);
    for (const { value, at } of releases) {
      expect(at).toBeLessThanOrEqual(Date.parse(value.releaseAt) + 30_000);
      const vod = truth.get(vodKey(value))!;
      expect(vod.endedAt).not.toBeNull();
      expect(Date.parse(vod.endedAt!)).toBeLessThanOrEqual(at);
    }
  });

  it("a GQL outage of three sweeps ended no VOD that was still live", () => {
    expect(releases.some((r) => r.value.login === "stays_live")).toBe(false);
    expect(snapshots.filter((s) => s.login === "stays_live").length).toBeGreaterThanOrEqual(9);
    // The stream that ended during the outage was released for its true end, once.
    expect(releases.filter((r) => r.value.login === "ends_in_outage")).toHaveLength(1);
  });

  it("a restart under the same stream id yields two VODs with their own start times", () => {
    const restarts = releases.filter((r) => r.value.login === "restarts").map((r) => r.value);
    expect(restarts).toHaveLength(2);
    expect(restarts[0]!.streamId).toBe(restarts[1]!.streamId);
    expect(restarts[0]!.startTime).not.toBe(restarts[1]!.startTime);
  });

  it("goes out in release-time order", () => {
    // Publication order: by broker time; one batch shares a timestamp across partitions.
    const batches = new Map<number, number[]>();
    for (const r of releases) batches.set(r.at, [...(batches.get(r.at) ?? []), Date.parse(r.value.releaseAt)]);
    const ordered = [...batches.entries()].sort((a, b) => a[0] - b[0]).map(([, times]) => times);
    for (let i = 1; i < ordered.length; i++)
      expect(Math.min(...ordered[i]!)).toBeGreaterThanOrEqual(Math.max(...ordered[i - 1]!));
    // Within a partition, offsets follow release times too.
    for (const p of new Set(releases.map((r) => r.partition))) {
      const times = releases.filter((r) => r.partition === p).map((r) => Date.parse(r.value.releaseAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });
});
