// One VOD that cannot be handled must not hold its batch: a URI no parser resolves is left out of
// its playlist, and a playlist over a cap or whose result would be larger than a Kafka message may
// be gives that VOD `failed` with the reason; the rest of the batch is archived and committed.
import { ConfigResourceTypes } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createCatalog,
  createProducer,
  vodFetchResult,
  type TypedProducer,
  type VodFetchRequest,
  type VodFetchResult,
} from "@vod/kafka";
import {
  caughtUp,
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

const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 2);
const [D0, D1] = DOMAINS as [string, string];
const MAX_BYTES = 16_384;

const kafka = testKafka();
const catalog = createCatalog(`${uniqueName("poison")}.`);
const groupId = uniqueName("fetcher-poison");
let producer: TypedProducer;
let db: TestDatabase;
let sim: Simulator;
let fetcher: RunningFetcher | undefined;
let results: Map<string, VodFetchResult>;
let vods: VodTruth[];

const keyOf = (v: { streamId: string; startTime: string }) => `${v.streamId}@${Date.parse(v.startTime)}`;
const request = (v: VodTruth): VodFetchRequest => ({
  v: 1,
  streamId: v.streamId,
  startTime: v.startTime,
  streamerId: v.streamerId,
  login: v.login,
  firstSeen: v.startTime,
  lastSeen: v.endedAt!,
  maxViewers: 100,
  releaseAt: v.endedAt!,
});

beforeAll(async () => {
  sim = await startSimulator({
    seed: 13,
    streams: 0,
    domains: DOMAINS,
    rates: { otherDomain: 0 },
    streamers: [
      { login: "broken_uri", id: "3101", viewers: 300, domain: D0, sessions: [{ start: "+48h", duration: "30m" }] },
      { login: "bloated", id: "3103", viewers: 300, domain: D0, sessions: [{ start: "+48h", duration: "30m" }] },
      // Two days of 10-second segments: its gzipped playlist is far over the cap set below.
      { login: "very_long", id: "3102", viewers: 300, domain: D1, sessions: [{ start: "+10m", duration: "48h" }] },
      ...Array.from({ length: 6 }, (_, i) => ({
        login: `fine_${i}`,
        id: String(3110 + i),
        viewers: 100,
        domain: DOMAINS[i % 2],
        sessions: [{ start: "+48h", duration: "30m" }],
      })),
    ],
  });
  sim.clock.advance(49 * 3_600_000);
  sim.faults.add({ kind: "malformed", logins: ["broken_uri"] });
  sim.faults.add({ kind: "malformed", mode: "bloated", logins: ["bloated"] });
  db = await freshDatabase();
  producer = await createProducer(kafka, testLog);
  await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
  const env = readEnv({
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: db.url,
    TOPIC_PREFIX: catalog.vodFetchRequests.name.replace("twitch.vod-fetch-requests", ""),
    GROUP_ID: groupId,
    CDN_DOMAINS: DOMAINS.join(","),
    CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
    RATE_PER_SECOND: "20",
    GQL_LOOKUP: "false",
    STOP_PROBABILITY: "0",
    RESULT_MAX_BYTES: String(MAX_BYTES),
    BATCH_MAX_MESSAGES: "32",
    RETRY_INITIAL: "1h",
    RETRY_MAX: "1h",
  });
  const clock = { now: () => sim.clock.now(), realDelay: (ms: number) => ms };
  fetcher = await startFetcher(env, { kafka, producer, db: db.db, clock, log: testLog });
  vods = sim.vods({ state: "ended" });
  expect(vods).toHaveLength(9);
  // One send: the poison VODs share their partitions' batches with fine ones.
  await producer.send(catalog.vodFetchRequests, vods.map(request));
  const records = await readTopic(kafka, catalog.vodFetchResults.name, vods.length, 60_000);
  results = new Map(records.map((r) => vodFetchResult.parse(JSON.parse(r.value!))).map((r) => [keyOf(r), r]));
}, 120_000);

afterAll(async () => {
  await fetcher?.stop();
  await producer?.disconnect();
  await db?.drop();
  await sim?.close();
});

describe("poison stays one VOD's problem", () => {
  it("a malformed URI in a playlist is left out and counted: that VOD is archived without it", async () => {
    const v = vods.find((x) => x.login === "broken_uri")!;
    const r = results.get(keyOf(v))!;
    expect(r).toMatchObject({ outcome: "found", error: null, found: { segments: v.segments - 1, skippedLines: 1 } });
    const { rows } = await db.pool.query("select 1 from fetch_followups where stream_id = $1", [v.streamId]);
    expect(rows).toHaveLength(0);
  });

  it("a playlist over the segment cap (2.5 MiB of segment lines): failed for good naming the cap, never retried", async () => {
    const v = vods.find((x) => x.login === "bloated")!;
    const r = results.get(keyOf(v))!;
    expect(r).toMatchObject({ outcome: "failed", terminal: true, found: null });
    expect(r.error).toMatch(/playlist has more than 50000 segments \(the cap\); not retried/);
    const { rows } = await db.pool.query("select 1 from fetch_followups where stream_id = $1", [v.streamId]);
    expect(rows).toHaveLength(0);
  });

  it("a result over RESULT_MAX_BYTES: that VOD is failed naming its size, and not retried (it would be as large again)", async () => {
    const v = vods.find((x) => x.login === "very_long")!;
    const r = results.get(keyOf(v))!;
    expect(r.outcome).toBe("failed");
    expect(r.found).toBeNull();
    expect(r.error).toMatch(new RegExp(`result of \\d+ bytes is over RESULT_MAX_BYTES \\(${MAX_BYTES}\\)`));
    expect(r.requests).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query("select 1 from fetch_followups where stream_id = $1", [v.streamId]);
    expect(rows).toHaveLength(0);
  });

  it("the rest of the batch is archived, every result under the cap, and the offsets are committed", async () => {
    for (const v of vods.filter((x) => x.login.startsWith("fine_"))) {
      const r = results.get(keyOf(v))!;
      expect(r.outcome, v.login).toBe("found");
    }
    const records = await readTopic(kafka, catalog.vodFetchResults.name, vods.length, 5_000);
    for (const rec of records) expect(Buffer.byteLength(rec.value!)).toBeLessThanOrEqual(MAX_BYTES);
    let committed = false;
    for (let i = 0; i < 40 && !committed; i++) {
      committed = await caughtUp(kafka, groupId, [catalog.vodFetchRequests.name]);
      if (!committed) await new Promise((r) => setTimeout(r, 250));
    }
    expect(committed).toBe(true);
  });

  it("a RESULT_MAX_BYTES that leaves no room under the results topic's max.message.bytes stops the fetcher at start, naming it", async () => {
    const other = createCatalog(`${uniqueName("poisoncap")}.`);
    await createTestTopics(kafka, [other.vodFetchRequests, other.vodFetchResults]);
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: other.vodFetchResults.name,
          configEntries: [{ name: "max.message.bytes", value: "100000" }],
        },
      ],
    });
    await admin.disconnect();
    const env = readEnv({
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: db.url,
      TOPIC_PREFIX: other.vodFetchRequests.name.replace("twitch.vod-fetch-requests", ""),
      GROUP_ID: uniqueName("fetcher-cap"),
      CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
      RESULT_MAX_BYTES: "200000",
    });
    const clock = { now: () => sim.clock.now(), realDelay: (ms: number) => ms };
    await expect(startFetcher(env, { kafka, producer, db: db.db, clock, log: testLog })).rejects.toThrow(
      /RESULT_MAX_BYTES: 200000 leaves no room under .*max\.message\.bytes \(100000\)/,
    );
  });
});
