// Still playable? A VOD opened through the API gets its first, middle and last segments checked by the
// hls-fetcher (the CDN budget's owner) and the answer stored by the writer: all there, some gone, all gone.
// Real broker, PostgreSQL and the simulator's CDN; the API, the fetcher and the writer in this process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createCatalog, createProducer, type TypedProducer, type VodCheckRequest } from "@vod/kafka";
import {
  createTestTopics,
  freshDatabase,
  simulatorClock,
  testKafka,
  testLog,
  uniqueName,
  type TestDatabase,
} from "@vod/testing";
import { processPlaylist } from "@vod/twitch";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { readEnv as fetcherEnv, startFetcher, type RunningFetcher } from "@vod/hls-fetcher";
import { readEnv as writerEnv, startWriter } from "@vod/writer";
import type { RunningConsumer } from "@vod/kafka";
import { insertVods, testApi, type TestApi } from "@vod/api/testing";

const kafka = testKafka();
const prefix = `${uniqueName("playable")}.`;
const catalog = createCatalog(prefix);
let sim: Simulator;
let tdb: TestDatabase;
let producer: TypedProducer;
let fetcher: RunningFetcher;
let writer: RunningConsumer;
const apis: TestApi[] = [];
let whole: VodTruth;
let holed: VodTruth;
let deleted: VodTruth;

/** An API of its own (its own memory of what it asked), on the simulator's clock, asking through the broker. */
async function api(o: { playableRecheckAfterMs?: number } = {}): Promise<TestApi> {
  const made = await testApi(tdb.url, {
    ...o,
    clock: simulatorClock(sim),
    askCheck: (request: VodCheckRequest) => producer.send(catalog.vodCheckRequests, [request]),
  });
  apis.push(made);
  return made;
}

const unix = (v: VodTruth) => Math.floor(Date.parse(v.startTime) / 1000);
const open = (a: TestApi, v: VodTruth) => a.app.inject(`/m3u8/${v.streamId}/${unix(v)}/index.m3u8`);
const playable = async (a: TestApi, v: VodTruth) =>
  (await a.app.inject(`/v1/vods/${v.streamId}/${unix(v)}`)).json<{
    playable: { state: string; checkedAt: string } | null;
  }>().playable;

async function until<T>(what: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await what();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, streams: 30 });
  sim.clock.advance(3 * 3_600_000);
  const onCdn = sim.vods({ state: "ended" }).filter((v) => v.onCdn && v.saved && !v.deleted);
  expect(onCdn.length).toBeGreaterThanOrEqual(3);
  [whole, holed, deleted] = onCdn as [VodTruth, VodTruth, VodTruth];
  tdb = await freshDatabase();
  // Archived as the fetcher archives them, before anything happened to their segments.
  const archived = await Promise.all(
    [whole, holed, deleted].map(async (v) => {
      const url = `${sim.cdnBaseUrl(v.domain)}${v.path}`;
      return processPlaylist(await (await fetch(url)).text(), url).text;
    }),
  );
  // Some segments gone: the stored playlist's last one names a segment the CDN does not have.
  archived[1] = archived[1]!.replace(/\/\d+(-muted)?\.ts\n#EXT-X-ENDLIST/, "/99999.ts\n#EXT-X-ENDLIST");
  expect(archived[1]).toContain("/99999.ts");
  sim.deleteVod(deleted.videoId);
  await insertVods(
    tdb.pool,
    [whole, holed, deleted].map((v, i) => ({
      streamId: Number(v.streamId),
      startTime: v.startTime,
      streamerId: Number(v.streamerId),
      login: v.login,
      playlist: archived[i]!,
    })),
  );
  await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults, catalog.streamSnapshots]);
  await createTestTopics(kafka, [catalog.vodCheckRequests, catalog.vodChecks]);
  producer = await createProducer(kafka, testLog);
  const vars = {
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: tdb.url,
    TOPIC_PREFIX: prefix,
    CDN_DOMAINS: [...new Set([whole, holed, deleted].map((v) => v.domain))].join(","),
    CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
    RATE_PER_SECOND: "20",
    GQL_LOOKUP: "false",
  };
  const deps = { kafka, producer, db: tdb.db, clock: simulatorClock(sim), log: testLog };
  fetcher = await startFetcher(fetcherEnv({ ...vars, GROUP_ID: uniqueName("fetcher") }), deps);
  writer = await startWriter(writerEnv({ ...vars, GROUP_ID: uniqueName("writer") }), deps);
}, 120_000);

afterAll(async () => {
  for (const a of apis) await a.close();
  await writer?.stop();
  await fetcher?.stop();
  await producer?.disconnect();
  await tdb?.drop();
  await sim?.close();
});

describe("still playable", () => {
  it("checks a VOD when it is opened: playable, partial or gone, shown by the v1 answer", async () => {
    const a = await api();
    const openedAt = sim.clock.now();
    for (const v of [whole, holed, deleted]) expect((await open(a, v)).statusCode).toBe(200);
    const states = await Promise.all([whole, holed, deleted].map((v) => until(() => playable(a, v))));
    expect(states.map((s) => s.state)).toEqual(["playable", "partial", "gone"]);
    for (const s of states) {
      expect(Date.parse(s.checkedAt)).toBeGreaterThanOrEqual(openedAt);
      expect(Date.parse(s.checkedAt)).toBeLessThanOrEqual(sim.clock.now());
    }
  }, 90_000);

  it("lists filter on the answer", async () => {
    const a = await api();
    const list = async (q: string) =>
      (await a.app.inject(`/v1/vods?playable=${q}`))
        .json<{ items: { streamId: string }[] }>()
        .items.map((i) => i.streamId);
    expect(await list("gone")).toEqual([deleted.streamId]);
    expect(await list("partial")).toEqual([holed.streamId]);
    expect(await list("unchecked")).toEqual([]);
    expect((await a.app.inject("/v1/vods?playable=maybe")).statusCode).toBe(400);
  });

  it("asks again only once the answer is a day old", async () => {
    // Requests ever asked: the sum of the topic's high watermarks.
    const asked = async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(catalog.vodCheckRequests.name);
        return offsets.reduce((n, p) => n + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    };
    const before = await asked();
    expect(before).toBe(3);
    // A fresh API (nothing remembered) opens a VOD checked minutes ago: the stored answer stands.
    const fresh = await api();
    await open(fresh, whole);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await asked()).toBe(before);
    // A day later (here: an API whose recheck age is an hour, two hours later) the same opening asks again.
    sim.clock.advance(2 * 3_600_000);
    const later = await api({ playableRecheckAfterMs: 3_600_000 });
    await open(later, whole);
    await until(async () => ((await asked()) > before ? true : null), 10_000);
    const again = await until(async () => {
      const p = await playable(later, whole);
      return p && Date.parse(p.checkedAt) > sim.clock.now() - 3_600_000 ? p : null;
    });
    // What the CDN says now: the simulator may have deleted it meanwhile.
    const now = sim.vods({ state: "ended" }).find((v) => v.streamId === whole.streamId)!;
    expect(again.state).toBe(now.deleted ? "gone" : "playable");
  }, 60_000);
});
