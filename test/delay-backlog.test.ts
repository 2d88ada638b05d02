// delay started after a backlog: 18 sweeps (one incomplete) already in Kafka, every marker written
// before any snapshot (as partition skew can deliver them), and every release already due. It must
// decide all ends first, then release each ended VOD once, in release-time order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaledClock } from "@vod/clock";
import {
  createCatalog,
  createProducer,
  createTopics,
  snapshotsPerPartition,
  sweepMarkers,
  type StreamSnapshot,
  type SweepMarker,
  type TypedProducer,
  type VodFetchRequest,
} from "@vod/kafka";
import { bareSnapshot, readAll, testLog, uniqueName, until } from "@vod/testing";
import { start as startDelay, readEnv as delayEnv, type StartedDelay } from "../services/delay/src/index.ts";
import { brokers, MIN, testBroker } from "./fixtures/delay-pipeline.ts";

const T0 = Date.parse("2025-01-06T12:00:00.000Z");
const iso = (t: number) => new Date(t).toISOString();
const prefix = `${uniqueName("db")}.`;
const catalog = createCatalog(prefix);
const kafka = testBroker("delay-backlog-test");
let producer: TypedProducer;
let delay: StartedDelay;
let releases: { value: VodFetchRequest; partition: number; offset: bigint; at: number }[] = [];

/** Streamer → [stream start, first sweep, last sweep] per session; sweeps every 5 minutes from 12:00. */
const sessions: Record<string, [number, number, number][]> = {
  "11": [[T0 - 60 * MIN, 0, 2]], // last seen 12:10 → 13:10
  "12": [[T0 - 60 * MIN, 0, 11]], // last seen 12:55:01 → 14:10
  "13": [
    [T0 - 60 * MIN, 0, 1],
    [T0 + 9 * MIN, 2, 5],
  ], // restart: two VODs, both → 13:10
  "14": [
    [T0 - 60 * MIN, 0, 11],
    [T0 + 59 * MIN, 12, 17],
  ], // restart decided at 13:00, due 14:10; new one stays live
  "15": [[T0 - 60 * MIN, 0, 10]], // absent from 13:05's sweep on, decided later than 14's end, due 13:10
  "16": [[T0 - 60 * MIN, 0, 17]], // live to the end
};
const SWEEPS = 18;
const INCOMPLETE = 8;

beforeAll(async () => {
  await createTopics(kafka, Object.values(catalog), testLog);
  producer = await createProducer(kafka, testLog);
  const markers: SweepMarker[] = [];
  const snapshots: StreamSnapshot[] = [];
  for (let i = 0; i < SWEEPS; i++) {
    const at = T0 + i * 5 * MIN;
    let count = 0;
    const before = snapshots.length;
    for (const [streamer, list] of Object.entries(sessions)) {
      for (const [start, from, to] of list) {
        if (i < from || i > to) continue;
        count++;
        snapshots.push(
          bareSnapshot({
            sweepId: `sw${i}`,
            observedAt: iso(at + 1000),
            streamId: `4${streamer}`,
            startTime: iso(start),
            streamerId: streamer,
            login: `l${streamer}`,
            viewers: 50 + i,
          }),
        );
      }
    }
    const complete = i !== INCOMPLETE;
    markers.push(
      ...sweepMarkers(
        {
          sweepId: `sw${i}`,
          startedAt: iso(at),
          finishedAt: iso(at + 2000),
          complete,
          reason: complete ? null : "gql timeout",
          count,
        },
        snapshotsPerPartition(snapshots.slice(before)),
      ),
    );
  }
  await producer.send(catalog.sweeps, markers);
  await producer.send(catalog.streamSnapshots, snapshots);

  const clock = scaledClock({ originMs: Date.parse("2025-01-06T15:00:00.000Z"), realOriginMs: Date.now(), speed: 1 });
  const env = delayEnv({
    KAFKA_BROKERS: brokers(),
    TOPIC_PREFIX: prefix,
    GROUP_ID: uniqueName("delay"),
    OPS_PORT: "0",
    LOG_LEVEL: "silent",
    BATCH_MAX_MESSAGES: "1",
    RELEASE_POLL: "20ms",
  });
  delay = await startDelay(env, testLog, clock);
  const read = async () =>
    (releases = (await readAll(kafka, catalog.vodFetchRequests.name, testLog)).map((r) => ({
      value: r.value as VodFetchRequest,
      partition: r.partition,
      offset: BigInt(r.offset),
      at: r.timestamp,
    })));
  await until(async () => (await read()).length >= 6, 60_000, "six releases");
  // Nothing more may follow.
  await new Promise((r) => setTimeout(r, 1_500));
  await read();
}, 120_000);

afterAll(async () => {
  await delay?.close();
  await producer?.disconnect();
});

describe("delay after a backlog", () => {
  it("releases each ended VOD once with the right release time", () => {
    const got = releases
      .map((r) => `${r.value.streamerId}@${r.value.startTime.slice(11, 16)}→${r.value.releaseAt.slice(11, 16)}`)
      .sort();
    expect(got).toEqual([
      "11@11:00→13:10",
      "12@11:00→14:10",
      "13@11:00→13:10",
      "13@12:09→13:10",
      "14@11:00→14:10",
      "15@11:00→13:10",
    ]);
    expect(delay.delay.counters().sweepsAbandoned).toBe(0);
  });

  // Each partition is released once its own inputs are handled (an instance may own only some of
  // them), so the order holds within a partition, not across partitions.
  it("goes out in release-time order within each partition", () => {
    for (const p of new Set(releases.map((r) => r.partition))) {
      const times = releases
        .filter((r) => r.partition === p)
        .sort((a, b) => Number(a.offset - b.offset))
        .map((r) => r.value.releaseAt);
      expect(times).toEqual([...times].sort());
    }
    expect(delay.delay.counters().endedRestart).toBe(2);
    expect(delay.delay.counters().endedAbsent).toBe(4);
  });
});
