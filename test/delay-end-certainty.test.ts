// The delay against the real broker on a clock 60 times faster than real time (sweep 1m, end after 3m,
// mute runs every 10m, gap 1m, margin 2m): sweeps are published by the test, and the test plays the
// fetcher for one VOD, answering its first release with `live` (a playlist without #EXT-X-ENDLIST).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createCatalog,
  createFencedProducer,
  createProducer,
  createTopics,
  FencedError,
  partitionOf,
  STREAM_PARTITIONS,
  snapshotsPerPartition,
  sweepMarkers,
  type FencedProducer,
  type StreamSnapshot,
  type TypedProducer,
  type VodFetchRequest,
  type VodFetchResult,
} from "@vod/kafka";
import { createRegistry, startOpsServer } from "@vod/service";
import {
  bareSnapshot,
  readAll,
  sharedClock,
  testLog,
  uniqueName,
  until,
  untilClock,
  type SharedClock,
} from "@vod/testing";
import { scaledClock } from "@vod/clock";
import { releaseTime, readEnv as delayEnv, type StartedDelay } from "../services/delay/src/index.ts";
import { startDelay as runDelay } from "../services/delay/src/delay.ts";
import { brokers, DELAY_TIMING as timing, MIN, startTestDelay, testBroker } from "./fixtures/delay-pipeline.ts";

const iso = (t: number) => new Date(t).toISOString();
const kafka = () => testBroker("delay-end-certainty-test");

/** Viewers per sweep (sweep i at 12:00 + i min); absent from the list: not in that sweep. */
const streams: Record<string, { login: string; viewers: (i: number) => number | undefined }> = {
  // 50 viewers, then 7 for 8 minutes (more than twice END_AFTER), back to 50, ends at 7: archived once, after its real end.
  "1": { login: "dips", viewers: (i) => (i <= 3 || i === 12 || i === 13 ? 50 : i <= 15 ? 7 : undefined) },
  // Never 10: tracked, ended, forgotten; never released.
  "2": { login: "never_ten", viewers: (i) => (i <= 5 ? 7 : undefined) },
  // Reached 30, then under 10 until its end: archived once it really ended.
  "3": { login: "under_ten_until_end", viewers: (i) => (i <= 2 ? 30 : i <= 9 ? 8 : undefined) },
  // Gone from sweep 4; its first release is answered `live`: released again after its real end.
  "4": { login: "answered_live", viewers: (i) => (i <= 3 ? 40 : undefined) },
  "5": { login: "stays_live", viewers: () => 100 },
};
const SWEEPS = 25;
const start = (streamer: string) => iso(Date.UTC(2025, 0, 6, 11, 0, 0) + Number(streamer) * 1000);

describe("delay: two thresholds and live fetch results (broker, compressed clock)", () => {
  let shared: SharedClock;
  let delay: StartedDelay;
  let producer: TypedProducer;
  const prefix = `${uniqueName("dec")}.`;
  const catalog = createCatalog(prefix);
  const snapshots: StreamSnapshot[] = [];
  const liveResults: VodFetchResult[] = [];
  let releases: { value: VodFetchRequest; at: number }[] = [];
  let state: { key: string | null; value: unknown }[] = [];
  let counters: ReturnType<StartedDelay["delay"]["counters"]>;

  beforeAll(async () => {
    shared = sharedClock(60);
    const t0 = shared.clock.now();
    const k = kafka();
    await createTopics(k, Object.values(catalog), testLog);
    producer = await createProducer(k, testLog);
    delay = await startTestDelay({ TOPIC_PREFIX: prefix, GROUP_ID: uniqueName("delay") }, shared);
    // The fetcher's part for streamer 4: its first release answered live, twice (a redelivery).
    const fetcher = k.consumer({ groupId: uniqueName("fake-fetcher") });
    await fetcher.connect();
    await fetcher.subscribe({ topic: catalog.vodFetchRequests.name, fromBeginning: true });
    await fetcher.run({
      eachMessage: async ({ message }) => {
        const request = JSON.parse(message.value!.toString("utf8")) as VodFetchRequest;
        if (request.streamerId !== "4" || liveResults.length > 0) return;
        const { releaseAt: _releaseAt, restart: _restart, ...sightings } = request;
        const result: VodFetchResult = {
          ...sightings,
          outcome: "live",
          fetchedAt: iso(shared.clock.now()),
          requests: 1,
          found: null,
          error: null,
        };
        liveResults.push(result);
        await producer.send(catalog.vodFetchResults, [result, result]);
      },
    });
    for (let i = 1; i <= SWEEPS; i++) {
      await untilClock(shared, t0 + i * MIN);
      const at = shared.clock.now();
      const batch: StreamSnapshot[] = [];
      for (const [streamer, s] of Object.entries(streams)) {
        const viewers = s.viewers(i);
        if (viewers === undefined) continue;
        batch.push(
          bareSnapshot({
            sweepId: `sw${i}`,
            observedAt: iso(at + 100),
            streamId: `6${streamer}`,
            startTime: start(streamer),
            streamerId: streamer,
            login: s.login,
            viewers,
          }),
        );
      }
      if (batch.length > 0) await producer.send(catalog.streamSnapshots, batch);
      snapshots.push(...batch);
      await producer.send(
        catalog.sweeps,
        sweepMarkers(
          {
            sweepId: `sw${i}`,
            startedAt: iso(at),
            finishedAt: iso(at + 200),
            complete: true,
            reason: null,
            count: batch.length,
          },
          snapshotsPerPartition(batch),
        ),
      );
    }
    await untilClock(shared, t0 + (SWEEPS + 1) * MIN);
    await fetcher.disconnect();
    counters = delay.delay.counters();
    await delay.close();
    releases = (await readAll(k, catalog.vodFetchRequests.name, testLog)).map((r) => ({
      value: r.value as VodFetchRequest,
      at: shared.at(r.timestamp),
    }));
    state = (await readAll(k, catalog.delayState.name, testLog)).map((r) => ({ key: r.key, value: r.value }));
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
  });

  const of = (streamer: string) => releases.filter((r) => r.value.streamerId === streamer);
  const lastSighting = (streamer: string) => snapshots.filter((s) => s.streamerId === streamer).at(-1)!.observedAt;

  it("never releases early: every release at or after the mute run following its last sighting", () => {
    expect(releases.length).toBeGreaterThan(0);
    for (const { value, at } of releases) {
      expect(at).toBeGreaterThanOrEqual(releaseTime(Date.parse(value.lastSeen), timing));
      expect(Date.parse(value.releaseAt)).toBeGreaterThanOrEqual(releaseTime(Date.parse(value.lastSeen), timing));
    }
  });

  it("a stream dipping to 7 viewers for 8 minutes (END_AFTER 3m) is not ended; it is archived once, after its real end", () => {
    expect(of("1")).toHaveLength(1);
    expect(of("1")[0]!.value).toMatchObject({ lastSeen: lastSighting("1"), maxViewers: 50 });
    expect(counters.revived + counters.revivedAfterRelease).toBe(0);
  });

  it("a stream that stays under 10 until it ends is archived once it really ended; one never at 10 is never released", () => {
    expect(of("3")).toHaveLength(1);
    expect(of("3")[0]!.value.lastSeen).toBe(lastSighting("3"));
    expect(of("2")).toHaveLength(0);
    expect(counters.forgottenUnderMin).toBe(1);
    const last = state.filter((r) => r.key === `vod:62:${start("2")}`).at(-1);
    expect(last).toEqual({ key: `vod:62:${start("2")}`, value: null });
    expect(of("5")).toHaveLength(0);
  });

  it("a released VOD answered live is tracked again and released again after its real end; the redelivered answer changes nothing", () => {
    expect(liveResults).toHaveLength(1);
    const fetchedAt = Date.parse(liveResults[0]!.fetchedAt);
    const [first, second, ...more] = of("4");
    expect(more).toHaveLength(0);
    expect(first!.value.lastSeen).toBe(lastSighting("4"));
    expect(second?.value.lastSeen).toBe(liveResults[0]!.fetchedAt);
    expect(Date.parse(second!.value.releaseAt)).toBeGreaterThanOrEqual(releaseTime(fetchedAt, timing));
    expect(second!.at).toBeGreaterThanOrEqual(releaseTime(fetchedAt, timing));
    expect(counters).toMatchObject({ liveResults: 1, liveResultsIgnored: 1 });
  });

  it("writes a VOD's state record when its fate changes, not for each of its sightings", () => {
    const key = `vod:65:${start("5")}`;
    expect(snapshots.filter((s) => s.streamerId === "5")).toHaveLength(SWEEPS);
    expect(state.filter((r) => r.key === key)).toHaveLength(1);
    // dips, seen in 15 sweeps: created, first missed (its exact last sighting), ended, released.
    expect(state.filter((r) => r.key === `vod:61:${start("1")}`).length).toBeLessThanOrEqual(4);
  });
});

/**
 * One delay in this process, fed one VOD that ends with the second sweep and is due at 13:10, a few
 * seconds of real time after the start; resolves once the VOD is ended and its state written.
 */
async function oneVodDueSoon(o: { releaser?: (id: string) => Promise<FencedProducer>; env?: Record<string, string> }) {
  const prefix = `${uniqueName("def")}.`;
  const catalog = createCatalog(prefix);
  const k = kafka();
  await createTopics(k, Object.values(catalog), testLog);
  const feeder = await createProducer(k, testLog);
  const own = await createProducer(k, testLog);
  const T = Date.UTC(2025, 0, 6, 12);
  const clock = scaledClock({ originMs: T + 69 * MIN + 54_000, realOriginMs: Date.now(), speed: 1 });
  const env = delayEnv({
    KAFKA_BROKERS: brokers(),
    TOPIC_PREFIX: prefix,
    GROUP_ID: uniqueName("delay"),
    LOG_LEVEL: "silent",
    RELEASE_POLL: "20ms",
    RELEASE_FAILURE_LIMIT: "1s",
    MAX_ORDER_WAIT: "0",
    ...o.env,
  });
  const fatal: string[] = [];
  const registry = createRegistry("delay");
  const delay = await runDelay(env, {
    kafka: k,
    producer: own,
    clock,
    log: testLog,
    registry,
    onFatal: (reason) => fatal.push(reason),
    ...(o.releaser ? { releaser: o.releaser } : {}),
  });
  const close = async () => {
    await delay.stop().catch(() => undefined);
    await feeder.disconnect();
    await own.disconnect();
  };
  try {
    await feeder.send(catalog.streamSnapshots, [
      bareSnapshot({
        sweepId: "a",
        observedAt: iso(T + 1000),
        streamId: "81",
        startTime: iso(T - 60 * MIN),
        streamerId: "8",
        login: "l8",
        viewers: 50,
      }),
    ]);
    await feeder.send(catalog.sweeps, [
      ...sweepMarkers(
        { sweepId: "a", startedAt: iso(T), finishedAt: iso(T + 2000), complete: true, reason: null, count: 1 },
        snapshotsPerPartition([{ streamerId: "8" }]),
      ),
      ...sweepMarkers(
        {
          sweepId: "b",
          startedAt: iso(T + 20 * MIN),
          finishedAt: iso(T + 20 * MIN + 2000),
          complete: true,
          reason: null,
          count: 0,
        },
        snapshotsPerPartition([]),
      ),
    ]);
    const trackers = () => [...delay.trackers().values()];
    await until(
      () =>
        trackers().some((t) => [...t.vods.values()].some((v) => v.status === "ended")) &&
        trackers().every((t) => t.dirtyCount === 0),
      20_000,
      "VOD ended",
    );
    expect(clock.now()).toBeLessThan(T + 70 * MIN);
  } catch (err) {
    await close();
    throw err;
  }
  return { k, catalog, env, delay, registry, fatal, close };
}

describe("delay: a release loop that keeps failing", () => {
  it("makes /healthz fail and asks to exit", async () => {
    // Releases go out through these; once `broken`, every send fails as with a broker out of reach.
    let broken = false;
    const releaser = async (id: string): Promise<FencedProducer> => {
      const real = await createFencedProducer(kafka(), testLog, id);
      return {
        claim: () => real.claim(),
        sendAtomically: async (topic, values) => {
          if (broken) throw new Error("broker out of reach");
          await real.sendAtomically(topic, values);
        },
        sendParts: async (parts) => {
          if (broken) throw new Error("broker out of reach");
          await real.sendParts(parts);
        },
        disconnect: () => real.disconnect(),
      };
    };
    const { delay, registry, fatal, close } = await oneVodDueSoon({ releaser });
    const ops = await startOpsServer({ port: 0, log: testLog, registry, checks: { consumer: () => delay.healthy() } });
    try {
      expect((await fetch(`${ops.url}/healthz`)).status).toBe(200);
      // Then the broker is out of reach: the due release cannot be sent.
      broken = true;
      await until(() => fatal.length > 0, 30_000, "fatal report");
      expect(fatal[0]).toMatch(/releases of partition \d+ failing|restoring partitions failing/);
      expect(delay.healthy()).toBe(false);
      expect((await fetch(`${ops.url}/healthz`)).status).toBe(503);
    } finally {
      await ops.close();
      await close();
    }
  }, 60_000);
});

describe("delay: a release send that never returns", () => {
  it("makes /healthz fail and asks to exit once no tick has finished for RELEASE_FAILURE_LIMIT", async () => {
    // Once `hung`, a release's transaction is never acknowledged (a broker that holds the connection
    // and never answers), longer than any send timeout of the client.
    let hung = false;
    const releaser = async (id: string): Promise<FencedProducer> => {
      const real = await createFencedProducer(kafka(), testLog, id);
      const hold = <T>(send: () => Promise<T>) => (hung ? new Promise<T>(() => undefined) : send());
      return {
        claim: () => real.claim(),
        sendAtomically: (topic, values) => hold(() => real.sendAtomically(topic, values)),
        sendParts: (parts) => hold(() => real.sendParts(parts)),
        disconnect: () => real.disconnect(),
      };
    };
    const { delay, fatal, close } = await oneVodDueSoon({
      releaser,
      env: { SEND_TIMEOUT: "10m", RELEASE_TICK_TIMEOUT: "300ms" },
    });
    try {
      hung = true;
      await until(() => fatal.length > 0, 30_000, "fatal report");
      expect(fatal[0]).toMatch(/release loop without a good tick/);
      expect(delay.healthy()).toBe(false);
    } finally {
      await close();
    }
  }, 60_000);
});

describe("delay: its partition's release id claimed by another producer", () => {
  it("claims it back while the group still gives it the partition, restores again and releases once", async () => {
    const { k, catalog, env, delay, fatal, close } = await oneVodDueSoon({});
    // A member that owned the partition before, claiming late (its claim was held up in retries).
    const late = await createFencedProducer(
      k,
      testLog,
      `${env.GROUP_ID}.${catalog.vodFetchRequests.name}.${partitionOf("8")}`,
    );
    try {
      await late.claim();
      await until(
        async () => (await readAll(k, catalog.vodFetchRequests.name, testLog)).length > 0,
        30_000,
        "the release",
      );
      await new Promise((r) => setTimeout(r, 1_000));
      const releases = await readAll(k, catalog.vodFetchRequests.name, testLog);
      expect(releases.map((r) => (r.value as VodFetchRequest).streamId)).toEqual(["81"]);
      expect(delay.restores()).toBe(STREAM_PARTITIONS + 1);
      expect(fatal).toEqual([]);
      // The late claimer is the one fenced now.
      await expect(
        late.sendAtomically(catalog.vodFetchRequests, [releases[0]!.value as VodFetchRequest]),
      ).rejects.toBeInstanceOf(FencedError);
    } finally {
      await late.disconnect();
      await close();
    }
  }, 60_000);
});
