// The video id, fetcher to writer: the fetcher reads it from the streamer's listing on the simulator and
// puts it on the result; the writer stores it in vods.video_id and a later result without one keeps it.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Clock } from "@vod/clock";
import { createCatalog, createProducer, vodFetchResult, type TypedProducer } from "@vod/kafka";
import {
  createTestTopics,
  freshDatabase,
  readTopic,
  testKafka,
  testLog,
  uniqueName,
  vodRequest,
  type TestDatabase,
} from "@vod/testing";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { startSimulator, type Simulator } from "@vod/twitch-sim";
import { readEnv as fetcherEnv, startFetcher, type RunningFetcher } from "@vod/hls-fetcher";
import { writeUntilCaughtUp } from "./writer-run.ts";

const kafka = testKafka();
const prefix = `${uniqueName("vid")}.`;
const catalog = createCatalog(prefix);
const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 2);
let sim: Simulator;
let db: TestDatabase;
let producer: TypedProducer;
let fetcher: RunningFetcher | undefined;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 77,
    streams: 0,
    domains: [...DOMAINS],
    streamers: [
      {
        login: "listed_one",
        id: "3001",
        viewers: 300,
        domain: DOMAINS[0],
        sessions: [{ start: "+10m", duration: "30m" }],
      },
      {
        login: "hides_them",
        id: "3002",
        viewers: 200,
        domain: DOMAINS[1],
        hidden: true,
        sessions: [{ start: "+12m", duration: "30m" }],
      },
    ],
  });
  sim.clock.advance(3 * 3_600_000);
  db = await freshDatabase();
  producer = await createProducer(kafka, testLog);
  // Every topic of the catalog: the services subscribe to more than the two this test reads.
  await createTestTopics(kafka, Object.values(catalog));
}, 120_000);

afterAll(async () => {
  await fetcher?.stop();
  await producer?.disconnect();
  await db?.drop();
  await sim?.close();
});

const common = (groupId: string) => ({
  KAFKA_BROKERS: inject("kafkaBrokers").join(","),
  DATABASE_URL: db.url,
  TOPIC_PREFIX: prefix,
  GROUP_ID: groupId,
  OPS_PORT: "0",
  LOG_LEVEL: "warn",
});

const writeAll = () =>
  writeUntilCaughtUp({ kafka, producer, catalog, prefix, databaseUrl: db.url, groupId: uniqueName("writer") });

const stored = async () =>
  (
    await db.pool.query<{ login: string; video_id: string | null; outcome: string }>(
      "select login, video_id::text, outcome from vods order by login",
    )
  ).rows;

describe("a VOD's video id, fetcher to writer", () => {
  it("is stored for a VOD the listing names, and null for one it does not", async () => {
    const vods = sim.vods({ state: "ended" }).filter((v) => v.login === "listed_one" || v.login === "hides_them");
    expect(vods.map((v) => [v.login, v.public])).toEqual(
      expect.arrayContaining([
        ["listed_one", true],
        ["hides_them", false],
      ]),
    );
    const clock: Clock = { now: () => sim.clock.now(), realDelay: (ms) => ms };
    fetcher = await startFetcher(
      fetcherEnv({
        ...common(uniqueName("fetcher")),
        CDN_DOMAINS: DOMAINS.join(","),
        CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
        GQL_ENDPOINT: sim.gqlUrl,
        RATE_PER_SECOND: "20",
        STOP_PROBABILITY: "0",
      }),
      { kafka, producer, db: db.db, clock, log: testLog },
    );
    await producer.send(
      catalog.vodFetchRequests,
      vods.map((v) => vodRequest(v)),
    );
    const records = await readTopic(kafka, catalog.vodFetchResults.name, vods.length, 60_000);
    expect(records).toHaveLength(vods.length);
    await writeAll();
    const listed = vods.find((v) => v.login === "listed_one")!;
    expect(await stored()).toEqual([
      { login: "hides_them", video_id: null, outcome: "found" },
      { login: "listed_one", video_id: listed.videoId, outcome: "found" },
    ]);
  }, 120_000);

  it("is kept when a later result of the VOD, which wins, carries none", async () => {
    const listed = sim.vods({ state: "ended" }).find((v) => v.login === "listed_one")!;
    const first = (await readTopic(kafka, catalog.vodFetchResults.name, 2, 10_000))
      .map((r) => vodFetchResult.parse(JSON.parse(r.value!)))
      .find((r) => r.login === "listed_one")!;
    expect(first.videoId).toBe(listed.videoId);
    // A later found result replaces every outcome field; the deep search's, for one, has no listing.
    const { videoId: _dropped, ...later } = { ...first, fetchedAt: new Date(sim.clock.now() + 60_000).toISOString() };
    await producer.send(catalog.vodFetchResults, [later]);
    await writeAll();
    const { rows } = await db.pool.query<{ video_id: string; fetched_at: Date }>(
      "select video_id::text, fetched_at from vods where login = 'listed_one'",
    );
    expect(rows).toEqual([{ video_id: listed.videoId, fetched_at: new Date(later.fetchedAt) }]);
  }, 90_000);
});
