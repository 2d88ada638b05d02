import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchFollowups } from "@vod/db";
import { createCatalog, createProducer, type TypedProducer, type VodFetchResult } from "@vod/kafka";
import {
  cdnDomains,
  createTestTopics,
  endOffsets,
  freshDatabase,
  parseResults,
  readTopic,
  scriptedSimulator,
  streamersLike,
  testKafka,
  testLog,
  uniqueName,
  vodRequest as request,
  type TestDatabase,
} from "@vod/testing";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import type { RunningFetcher } from "@vod/hls-fetcher";
import { fetcherVars, SHORT_TIMEOUTS, startSimFetcher } from "./fixtures/fetcher.ts";

const DOMAINS = cdnDomains(3);
const [, D1, D2] = DOMAINS;
const RATE = 4;
const MIN = 60_000;

const kafka = testKafka();
let producer: TypedProducer;
let sim: Simulator;
const started: { fetcher: RunningFetcher; db: TestDatabase }[] = [];

beforeAll(async () => {
  sim = await scriptedSimulator(99, DOMAINS, [
    ...streamersLike(6, "listed_", 4100, DOMAINS, [{ start: "-3h", duration: "1h" }]),
    // Hidden archives: GQL lists nothing, so the search stops early and the deep search carries on.
    ...streamersLike(6, "hidden_", 4200, [D2], [{ start: "-3h", duration: "1h" }], { hidden: true }),
    { login: "in_outage", id: "4300", viewers: 100, domain: D1, sessions: [{ start: "-3h", duration: "1h" }] },
  ]);
  producer = await createProducer(kafka, testLog);
}, 120_000);

afterAll(async () => {
  for (const s of started) {
    await s.fetcher.stop();
    await s.db.drop();
  }
  await producer?.disconnect();
  await sim?.close();
});

async function start(overrides: Record<string, string> = {}) {
  const catalog = createCatalog(`${uniqueName("ffu")}.`);
  await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
  const db = await freshDatabase();
  const prefix = catalog.vodFetchRequests.name.replace("twitch.vod-fetch-requests", "");
  const vars = {
    ...fetcherVars({ db, prefix, groupId: uniqueName("fetcher"), sim, domains: DOMAINS, rate: RATE }),
    ...SHORT_TIMEOUTS,
    GQL_ENDPOINT: sim.gqlUrl,
    GQL_BATCH_WAIT: "20ms",
    REQUEST_RETRIES: "0",
    CONCURRENCY: "4",
    FOLLOWUP_POLL: "100ms",
    ...overrides,
  };
  const fetcher = await startSimFetcher(vars, { kafka, producer, db, sim });
  started.push({ fetcher, db });
  return { catalog, fetcher, db };
}

const truth = (login: string): VodTruth => sim.vods({ login })[0]!;

/** Every result on the topic (at least `atLeast`, waiting up to `timeoutMs` for them), in offset order per partition. */
async function results(topic: string, atLeast: number, timeoutMs = 60_000): Promise<VodFetchResult[]> {
  await readTopic(kafka, topic, atLeast, timeoutMs);
  const total = [...(await endOffsets(kafka, topic)).values()].reduce((a, b) => a + Number(b), 0);
  return parseResults(await readTopic(kafka, topic, total, timeoutMs));
}

describe("hls-fetcher follow-ups (broker, Postgres, simulator)", () => {
  it("a VOD failed in a 20-minute outage of every domain is found after it, with no command: retried with backoff", async () => {
    const { catalog, db } = await start();
    const v = truth("in_outage");
    sim.faults.add({ id: "outage", kind: "down", target: "cdn", for: "20m" });
    await producer.send(catalog.vodFetchRequests, [request(v)]);
    const [first] = await results(catalog.vodFetchResults.name, 1);
    expect(first).toMatchObject({ outcome: "failed" });
    const rows = await db.db.select().from(fetchFollowups);
    expect(rows).toMatchObject([{ kind: "retry", attempts: 1 }]);

    // Simulated time moves a minute at a time; retries at +2, +6, +14 fail inside the outage, +30 finds it.
    let all: VodFetchResult[] = [first!];
    for (let m = 0; m < 40 && all.at(-1)?.outcome !== "found"; m++) {
      sim.clock.advance(MIN);
      await new Promise((r) => setTimeout(r, 250));
      all = await results(catalog.vodFetchResults.name, 1, 5_000);
    }
    expect(all.at(-1)).toMatchObject({ outcome: "found", found: { url: sim.playlistUrl(v) } });
    expect(all.slice(0, -1).every((r) => r.outcome === "failed")).toBe(true);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.length).toBeLessThanOrEqual(6);
    // Settled: nothing owed any more.
    await new Promise((r) => setTimeout(r, 300));
    expect(await db.db.select().from(fetchFollowups)).toEqual([]);
  }, 120_000);

  it("the deep search finds VODs the first search gave up on; both lanes together never exceed the configured rate", async () => {
    // The first search stops at once for these; the deep search must find them on leftover budget.
    const { catalog, fetcher } = await start({ STOP_PROBABILITY: "0.5", DEEP_STOP_PROBABILITY: "0.0001" });
    sim.resetStats();
    const hidden = Array.from({ length: 6 }, (_, i) => truth(`hidden_${i}`));
    const listed = Array.from({ length: 6 }, (_, i) => truth(`listed_${i}`));
    await producer.send(
      catalog.vodFetchRequests,
      hidden.map((v) => request(v)),
    );
    // The main lane keeps working while the deep search runs.
    await new Promise((r) => setTimeout(r, 300));
    await producer.send(
      catalog.vodFetchRequests,
      listed.map((v) => request(v)),
    );
    const wanted = new Set(hidden.map((v) => v.streamId));
    let found = new Set<string>();
    const deadline = Date.now() + 90_000;
    let all: VodFetchResult[] = [];
    // Until every hidden VOD is found and every listed one has its result (other partitions may be behind).
    const listedDone = () => all.filter((r) => !wanted.has(r.streamId)).length >= listed.length;
    while ((found.size < wanted.size || !listedDone()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      all = await results(catalog.vodFetchResults.name, 12, 5_000);
      found = new Set(all.filter((r) => r.outcome === "found" && wanted.has(r.streamId)).map((r) => r.streamId));
    }
    // One streamer's results share a partition, so its first result is the first search's.
    const first = [...wanted].map((id) => all.find((r) => r.streamId === id));
    expect(first.map((r) => [r?.outcome, r?.partial])).toEqual(hidden.map(() => ["not_found", true]));
    expect(found).toEqual(wanted);
    for (const r of all.filter((x) => x.outcome === "found" && wanted.has(x.streamId))) {
      const v = hidden.find((h) => h.streamId === r.streamId)!;
      expect(r.found?.url).toBe(sim.playlistUrl(v));
    }
    expect(all.filter((r) => !wanted.has(r.streamId)).map((r) => r.outcome)).toEqual(listed.map(() => "found"));
    expect(fetcher.followUps.count("deep")).toBe(0);
    expect(sim.stats().cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
    expect(sim.stats().cdn.requests).toBeGreaterThan(listed.length + hidden.length);
  }, 150_000);
});
