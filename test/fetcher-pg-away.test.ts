// The fetcher's PostgreSQL tables go away while it runs (they are renamed, which fails every query on
// them as an outage would, without stopping the server other tests share): VODs are still fetched and
// their outcomes published, in a worse order; what it learned meanwhile reaches PostgreSQL once the
// tables are back. A VOD that owes a follow-up row waits for it rather than lose it.
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

const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 3);
const TABLES = ["cdn_streamer_domains", "cdn_domain_health", "fetch_followups"];

const kafka = testKafka();
const catalog = createCatalog(`${uniqueName("pgaway")}.`);
let producer: TypedProducer;
let db: TestDatabase;
let sim: Simulator;
let fetcher: RunningFetcher | undefined;

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
const away = (on: boolean) =>
  Promise.all(
    TABLES.map((t) =>
      db.pool.query(on ? `ALTER TABLE ${t} RENAME TO ${t}_away` : `ALTER TABLE ${t}_away RENAME TO ${t}`),
    ),
  );

beforeAll(async () => {
  sim = await startSimulator({
    seed: 7,
    streams: 0,
    domains: DOMAINS,
    rates: { otherDomain: 0 },
    streamers: [
      ...Array.from({ length: 5 }, (_, i) => ({
        login: `kept_${i}`,
        id: String(3300 + i),
        viewers: 100,
        domain: DOMAINS[i % 3],
        sessions: [{ start: "+10m", duration: "30m" }],
      })),
      {
        login: "none_saved",
        id: "3310",
        viewers: 100,
        domain: DOMAINS[0],
        sessions: [{ start: "+10m", duration: "30m", saved: false }],
      },
    ],
  });
  sim.clock.advance(2 * 3_600_000);
  db = await freshDatabase();
  producer = await createProducer(kafka, testLog);
  await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
  const env = readEnv({
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: db.url,
    TOPIC_PREFIX: catalog.vodFetchRequests.name.replace("twitch.vod-fetch-requests", ""),
    GROUP_ID: uniqueName("fetcher-pg-away"),
    CDN_DOMAINS: DOMAINS.join(","),
    CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
    RATE_PER_SECOND: "20",
    GQL_LOOKUP: "false",
    STOP_PROBABILITY: "0",
  });
  const clock = { now: () => sim.clock.now(), realDelay: (ms: number) => ms };
  fetcher = await startFetcher(env, { kafka, producer, db: db.db, clock, log: testLog });
}, 60_000);

afterAll(async () => {
  await fetcher?.stop();
  await producer?.disconnect();
  await db?.drop();
  await sim?.close();
});

describe("hls-fetcher while its PostgreSQL tables are away", () => {
  it("fetches and publishes VODs that owe nothing; learns them once the tables are back", async () => {
    const kept = sim.vods({ state: "ended" }).filter((v) => v.login.startsWith("kept_"));
    await away(true);
    try {
      await producer.send(catalog.vodFetchRequests, kept.map(request));
      const records = await readTopic(kafka, catalog.vodFetchResults.name, kept.length, 30_000);
      const results = new Map<string, VodFetchResult>(
        records.map((r) => vodFetchResult.parse(JSON.parse(r.value!))).map((r) => [keyOf(r), r]),
      );
      for (const v of kept) expect(results.get(keyOf(v))?.outcome, v.login).toBe("found");
    } finally {
      await away(false);
    }
    // The next flush (after any batch, or the follow-up loop's round) writes what was learned while away.
    let rows = 0;
    for (let i = 0; i < 40 && rows < kept.length; i++) {
      await new Promise((r) => setTimeout(r, 250));
      rows = (await db.pool.query("select 1 from cdn_streamer_domains where found_count > 0")).rowCount ?? 0;
    }
    expect(rows).toBe(kept.length);
  }, 60_000);

  it("a VOD whose outcome needs a follow-up row waits for PostgreSQL instead of being published without it", async () => {
    sim.faults.add({ id: "down", kind: "down", domains: DOMAINS, status: 503 });
    const failing = sim.vods({ login: "none_saved" })[0]!;
    await away(true);
    let published = 0;
    try {
      await producer.send(catalog.vodFetchRequests, [request(failing)]);
      await new Promise((r) => setTimeout(r, 4_000));
      published = (await readTopic(kafka, catalog.vodFetchResults.name, 6, 2_000)).length;
    } finally {
      await away(false);
    }
    // Five results from the first test, none yet for the failed VOD: its retry row could not be written.
    expect(published).toBe(5);
    const records = await readTopic(kafka, catalog.vodFetchResults.name, 6, 30_000);
    expect(records).toHaveLength(6);
    const last = records.map((r) => vodFetchResult.parse(JSON.parse(r.value!))).find((r) => r.login === "none_saved")!;
    expect(last.outcome).toBe("failed");
    const { rows } = await db.pool.query("select kind from fetch_followups where stream_id = $1", [failing.streamId]);
    expect(rows).toEqual([{ kind: "retry" }]);
    sim.faults.clear(["down"]);
  }, 60_000);
});
