import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Clock } from "@vod/clock";
import {
  createCatalog,
  createProducer,
  vodFetchResult,
  type TypedProducer,
  type VodFetchRequest,
  type VodFetchResult,
} from "@vod/kafka";
import {
  createTestTopics,
  freshDatabase,
  readTopic,
  testKafka,
  testLog,
  uniqueName,
  type TestDatabase,
} from "@vod/testing";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { readEnv, startFetcher, type RunningFetcher } from "@vod/hls-fetcher";

// Four domains keep a cold fetch at 12 candidates at most, so the file runs in about a minute at 3 requests/s.
const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 4);
const [D0, D1, D2, D3] = DOMAINS as [string, string, string, string];
const RATE = 3;

const kafka = testKafka();
const catalog = createCatalog(`${uniqueName("fe2e")}.`);
let producer: TypedProducer;
let db: TestDatabase;
let sim: Simulator;
let clock: Clock;
let groupId: string;
let fetcher: RunningFetcher | undefined;
let resultsSeen = 0;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 2024,
    streams: 8,
    domains: DOMAINS,
    streamers: [
      {
        login: "minus_one",
        id: "2001",
        viewers: 500,
        domain: D2,
        sessions: [{ start: "+10m", duration: "40m", variant: "minus1", muted: [[1, 3]] }],
      },
      {
        login: "re_starter",
        id: "2002",
        viewers: 400,
        domain: D3,
        sessions: [
          { start: "+20m", duration: "30m" },
          { start: "+55m", duration: "30m", sameStreamId: true },
        ],
      },
      {
        login: "gone_soon",
        id: "2003",
        viewers: 300,
        domain: D1,
        sessions: [{ start: "+15m", duration: "30m", deleteAfter: "10m" }],
      },
      {
        login: "never_kept",
        id: "2004",
        viewers: 200,
        domain: D2,
        sessions: [{ start: "+15m", duration: "30m", saved: false }],
      },
      { login: "on_zero", id: "2005", viewers: 100, domain: D0 },
      { login: "on_one", id: "2006", viewers: 100, domain: D1 },
    ],
  });
  sim.clock.advance(4 * 3_600_000);
  clock = { now: () => sim.clock.now(), realDelay: (ms) => ms };
  db = await freshDatabase();
  producer = await createProducer(kafka, testLog);
  await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
  groupId = uniqueName("fetcher");
}, 120_000);

afterAll(async () => {
  await fetcher?.stop();
  await producer?.disconnect();
  await db?.drop();
  await sim?.close();
});

function env() {
  return readEnv({
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: db.url,
    TOPIC_PREFIX: catalog.vodFetchRequests.name.replace("twitch.vod-fetch-requests", ""),
    GROUP_ID: groupId,
    CDN_DOMAINS: DOMAINS.join(","),
    CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
    RATE_PER_SECOND: String(RATE),
    GQL_LOOKUP: "false",
    // Exhaustive search: these tests check outcomes against the truth for every candidate form.
    STOP_PROBABILITY: "0",
    CONNECT_TIMEOUT: "1s",
    HEADERS_TIMEOUT: "1s",
    BODY_TIMEOUT: "1s",
    REQUEST_TIMEOUT: "2s",
    REQUEST_RETRIES: "1",
    RETRY_BACKOFF: "50ms",
    CONCURRENCY: "4",
  });
}

const request = (v: VodTruth): VodFetchRequest => ({
  v: 1,
  streamId: v.streamId,
  startTime: v.startTime,
  streamerId: v.streamerId,
  login: v.login,
  firstSeen: v.startTime,
  lastSeen: v.endedAt ?? v.startTime,
  maxViewers: 100,
  releaseAt: v.endedAt ?? v.startTime,
});

/** Publishes requests and waits for as many new results. */
async function fetchAll(vods: VodTruth[]): Promise<Map<string, VodFetchResult>> {
  await producer.send(catalog.vodFetchRequests, vods.map(request));
  resultsSeen += vods.length;
  const records = await readTopic(kafka, catalog.vodFetchResults.name, resultsSeen, 110_000);
  expect(records).toHaveLength(resultsSeen);
  // Records of different partitions interleave in any order; one VOD's results share a partition, in order.
  const wanted = new Set(vods.map(keyOf));
  const results = records
    .map((r) => vodFetchResult.parse(JSON.parse(r.value!)))
    .filter((r) => wanted.has(`${r.streamId}@${Date.parse(r.startTime)}`));
  return new Map(results.map((r) => [`${r.streamId}@${Date.parse(r.startTime)}`, r]));
}
const keyOf = (v: VodTruth) => `${v.streamId}@${Date.parse(v.startTime)}`;
const onCdn = (v: VodTruth) => v.saved && !v.deleted;

async function simBodyAbsolute(v: VodTruth): Promise<string> {
  const url = sim.playlistUrl(v);
  const body = await (await fetch(url)).text();
  const base = url.slice(0, url.lastIndexOf("/") + 1);
  return body
    .split("\n")
    .map((l) => (l === "" || l.startsWith("#") ? l : base + l))
    .join("\n");
}

describe("hls-fetcher end to end (broker, Postgres, simulator)", () => {
  it("finds every VOD on the CDN (−1 s and seconds-field ones too), not_found for the rest, never above the rate", async () => {
    fetcher = await startFetcher(env(), { kafka, producer, db: db.db, clock, log: testLog });
    const ended = sim.vods({ state: "ended" });
    expect(ended.filter(onCdn).map((v) => v.variant)).toEqual(expect.arrayContaining(["start", "minus1", "seconds"]));
    expect(ended.some((v) => !onCdn(v))).toBe(true);
    sim.resetStats();

    const results = await fetchAll(ended);
    // Read before the test fetches a body itself.
    const stats = sim.stats();
    for (const v of ended) {
      const r = results.get(keyOf(v))!;
      expect(r.outcome, `${v.login} ${v.variant}`).toBe(onCdn(v) ? "found" : "not_found");
      if (r.outcome === "found") expect(r.found).toMatchObject({ domain: v.domain, variant: v.variant, ts: v.ts });
    }
    const muted = ended.find((v) => v.login === "minus_one")!;
    expect(muted.mutedSegmentsNow).toBe(2);
    const stored = gunzipSync(Buffer.from(results.get(keyOf(muted))!.found!.playlistGzipBase64, "base64")).toString(
      "utf8",
    );
    expect(stored).toBe(await simBodyAbsolute(muted));
    expect(stored).toContain(`${sim.cdnBaseUrl(D2)}`);
    expect(stored).toMatch(/\/1-muted\.ts\n/);

    expect(stats.cdn.requests).toBe([...results.values()].reduce((s, r) => s + r.requests, 0));
    expect(stats.cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
  }, 120_000);

  it("a blackholed domain: its VODs come out failed within the timeouts, the others keep flowing", async () => {
    sim.faults.add({ id: "bh", kind: "blackhole", domains: [D0] });
    sim.goLive("on_zero", { durationMs: 20 * 60_000 });
    sim.goLive("on_one", { durationMs: 20 * 60_000 });
    sim.clock.advance(30 * 60_000);
    const fresh = [...sim.vods({ login: "on_zero" }), ...sim.vods({ login: "on_one" })].filter((v) => !v.live);
    sim.resetStats();
    const results = await fetchAll(fresh);
    const zero = results.get(keyOf(fresh.find((v) => v.login === "on_zero")!))!;
    const one = results.get(keyOf(fresh.find((v) => v.login === "on_one")!))!;
    expect(zero.outcome).toBe("failed");
    expect(zero.error).toMatch(/(headers|request|connect) timeout|skipped, failing/);
    expect(one.outcome).toBe("found");
    expect(sim.stats().cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
    sim.faults.clear(["bh"]);
  }, 120_000);

  it("what it learned survives a restart: a known streamer's next VOD costs one request", async () => {
    await fetcher!.stop();
    fetcher = await startFetcher(env(), { kafka, producer, db: db.db, clock, log: testLog });
    await fetcher.knowledge.warm(["2001"]);
    expect(fetcher.knowledge.streamerDomain("2001")).toBe(D2);
    sim.goLive("minus_one", { durationMs: 15 * 60_000 });
    sim.clock.advance(20 * 60_000);
    const next = sim
      .vods({ login: "minus_one" })
      .filter((v) => !v.live)
      .at(-1)!;
    const results = await fetchAll([next]);
    expect(results.get(keyOf(next))).toMatchObject({ outcome: "found", requests: 1 });
  }, 120_000);
});
