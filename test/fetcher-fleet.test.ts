// Several hls-fetchers in one consumer group: with Redis they share one CDN budget (the simulator's
// busiest second stays at the configured rate, whichever process made the requests); without it a
// second fetcher is refused at start, saying why. Fetchers run as their own processes (main.ts).
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCatalog, vodFetchResult } from "@vod/kafka";
import {
  cdnDomains,
  createTestTopics,
  readAll,
  testLog,
  uniqueName,
  until,
  vodRequest,
  type Child,
} from "@vod/testing";
import { startSimulator, type Simulator } from "@vod/twitch-sim";
import { InstanceRefused, readEnv, startFetcher } from "@vod/hls-fetcher";
import { fetcherWorld, spawnFetcher, type FetcherWorld } from "./fixtures/fetcher.ts";

const DOMAINS = cdnDomains(4);
const RATE = 8;
const STREAMERS = 24;

let world: FetcherWorld;
let admin: Admin;
let sim: Simulator;
const children: Child[] = [];

// One past VOD per streamer; two thirds never saved, so each costs every candidate (4 domains × 3 ts
// forms = 12 requests) and the fetchers always have more to ask than the budget lets through.
const streamers = Array.from({ length: STREAMERS }, (_, i) => ({
  login: `ff_${i}`,
  id: String(5100 + i),
  viewers: 100 + i,
  domain: DOMAINS[i % DOMAINS.length],
  sessions: [{ start: `-${200 - i}m`, duration: "30m", saved: i % 3 === 0 }],
}));

/** A fetcher process of group `groupId` on `prefix`'s topics; Redis only where `extra` gives it. */
function spawnOne(prefix: string, groupId: string, extra: Record<string, string> = {}): Child {
  const c = spawnFetcher(
    {
      ...world.vars(DOMAINS, RATE, groupId),
      TOPIC_PREFIX: prefix,
      CONCURRENCY: "8",
      BATCH_MAX_MESSAGES: "8",
      REQUEST_RETRIES: "1",
      RETRY_BACKOFF: "50ms",
      LOG_LEVEL: "warn",
      // One in the calling shell's environment must not share a budget the test means to be separate.
      REDIS_URL: undefined,
      ...extra,
    },
    { capture: true },
  );
  children.push(c);
  return c;
}

async function members(groupId: string): Promise<number> {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0]?.members.length ?? 0;
}

/** Both members joined and the group is stable with partitions for each: otherwise one fetches alone until the rebalance. */
async function balanced(groupId: string, n: number): Promise<boolean> {
  const { groups } = await admin.describeGroups([groupId]);
  const g = groups[0];
  return g?.state === "Stable" && g.members.length === n && g.members.every((m) => m.memberAssignment.length > 0);
}

interface Run {
  results: number;
  maxIn900ms: number;
  requests: number;
  outcomes: Record<string, number>;
}

/** Two fetcher processes of one group fetch every ended VOD; `egress` names each one's budget. */
async function runTwo(egress: [string, string]): Promise<Run> {
  const prefix = `${uniqueName("ff")}.`;
  const catalog = createCatalog(prefix);
  const groupId = uniqueName("fleet");
  await createTestTopics(world.kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
  const redis = inject("redisUrl");
  const pair = egress.map((e) => spawnOne(prefix, groupId, { REDIS_URL: redis, CDN_EGRESS: e }));
  await until(() => balanced(groupId, 2), 90_000, "both fetchers joined the group and have partitions");
  const vods = sim.vods({ state: "ended" });
  sim.resetStats();
  await world.producer.send(
    catalog.vodFetchRequests,
    vods.map((v) => vodRequest(v)),
  );
  await until(
    async () => (await readAll(world.kafka, catalog.vodFetchResults.name, testLog)).length >= vods.length,
    120_000,
    "every VOD has a result",
  );
  const stats = sim.stats();
  const results = (await readAll(world.kafka, catalog.vodFetchResults.name, testLog)).map((r) =>
    vodFetchResult.parse(r.value),
  );
  for (const c of pair) c.child.kill("SIGTERM");
  await Promise.all(pair.map((c) => c.exited));
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return { results: results.length, maxIn900ms: stats.cdn.maxIn900ms, requests: stats.cdn.requests, outcomes };
}

let shared: Run;
let separate: Run;

beforeAll(async () => {
  sim = await startSimulator({ speed: 1, streams: 0, domains: DOMAINS, rates: { otherDomain: 0 }, streamers });
  world = await fetcherWorld("ff", sim);
  admin = world.kafka.admin();
  await admin.connect();
  const id = uniqueName("egress");
  shared = await runTwo([id, id]);
  // The same two processes, each behind an egress of its own: two budgets (the control).
  separate = await runTwo([`${id}-a`, `${id}-b`]);
}, 300_000);

afterAll(async () => {
  for (const c of children) c.child.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await admin?.disconnect();
  await world?.close();
});

describe("two hls-fetcher processes in one group", () => {
  it("sharing an egress, they share one budget: the simulator's busiest second stays at the rate", () => {
    const vods = sim.vods({ state: "ended" }).length;
    expect(shared.results).toBeGreaterThanOrEqual(vods);
    expect(shared.outcomes.found).toBeGreaterThan(0);
    expect(shared.outcomes.not_found).toBeGreaterThan(0);
    // Enough requests that a budget per process would show: about 200, 25 s at 8 a second.
    expect(shared.requests).toBeGreaterThan(100);
    expect(shared.maxIn900ms).toBeLessThanOrEqual(RATE);
  });

  it("behind different egress names each has its own budget (so the check above can fail)", () => {
    expect(separate.requests).toBeGreaterThan(100);
    expect(separate.maxIn900ms).toBeGreaterThan(RATE);
  });
});

describe("a fetcher whose budget would not be shared is refused at start", () => {
  const prefix = `${uniqueName("ffr")}.`;
  const env = (groupId: string, extra: Record<string, string> = {}) =>
    readEnv({
      ...world.vars(DOMAINS, RATE, groupId),
      TOPIC_PREFIX: prefix,
      GQL_LOOKUP: "false",
      ...extra,
    });
  const clock = { now: () => Date.now(), realDelay: (ms: number) => ms };

  it("a second process without REDIS_URL exits 1 naming the reason; a restart after kill -9 is not refused by its ghost", async () => {
    const groupId = uniqueName("alone");
    const prefix = `${uniqueName("ffa")}.`;
    const catalog = createCatalog(prefix);
    await createTestTopics(world.kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
    const first = spawnOne(prefix, groupId);
    await until(async () => (await members(groupId)) === 1, 90_000, "the first fetcher joined");
    const second = spawnOne(prefix, groupId);
    expect(await second.exited).toBe(1);
    const said = second.output.join("");
    expect(said).toContain("hls-fetcher refused to start");
    expect(said).toMatch(/another hls-fetcher of group .* is running: without REDIS_URL/);

    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    // The broker still lists the dead member until its session expires; the lock went with its connection.
    const third = spawnOne(prefix, groupId);
    // A refusal comes within its start (a few seconds): still running after 12 s, it was let in.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(third.child.exitCode, third.output.join("")).toBeNull();
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  }, 120_000);

  it("in process: without Redis the second is refused, beside one with Redis too, and once the first stops one may start", async () => {
    const groupId = uniqueName("inproc");
    const catalog = createCatalog(prefix);
    await createTestTopics(world.kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
    const a = await startFetcher(env(groupId), {
      kafka: world.kafka,
      producer: world.producer,
      db: world.db.db,
      clock,
      log: testLog,
    });
    await expect(
      startFetcher(env(groupId), {
        kafka: world.kafka,
        producer: world.producer,
        db: world.db.db,
        clock,
        log: testLog,
      }),
    ).rejects.toThrow(InstanceRefused);
    await expect(
      startFetcher(env(groupId, { REDIS_URL: inject("redisUrl") }), {
        kafka: world.kafka,
        producer: world.producer,
        db: world.db.db,
        clock,
        log: testLog,
      }),
    ).rejects.toThrow(/runs without REDIS_URL/);
    // Another group is another budget owner.
    const other = await startFetcher(env(uniqueName("other")), {
      kafka: world.kafka,
      producer: world.producer,
      db: world.db.db,
      clock,
      log: testLog,
    });
    await other.stop();
    await a.stop();
    const b = await startFetcher(env(groupId), {
      kafka: world.kafka,
      producer: world.producer,
      db: world.db.db,
      clock,
      log: testLog,
    });
    await b.stop();
  }, 120_000);
});
