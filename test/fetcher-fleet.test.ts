// Several hls-fetchers in one consumer group: with Redis they share one CDN budget (the simulator's
// busiest second stays at the configured rate, whichever process made the requests); without it a
// second fetcher is refused at start, saying why. Fetchers run as their own processes (main.ts).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCatalog, createProducer, vodFetchResult, type TypedProducer, type VodFetchRequest } from "@vod/kafka";
import {
  childEnv,
  createTestTopics,
  freshDatabase,
  testKafka,
  testLog,
  uniqueName,
  type TestDatabase,
} from "@vod/testing";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { InstanceRefused, readEnv, startFetcher } from "@vod/hls-fetcher";
import { readAll } from "../services/delay/src/__fixtures__/harness.ts";

const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 4);
const RATE = 8;
const STREAMERS = 24;

const kafka = testKafka("fetcher-fleet-test");
let producer: TypedProducer;
let admin: Admin;
let db: TestDatabase;
let sim: Simulator;
const children: Child[] = [];

type Child = { child: ReturnType<typeof spawn>; output: string[]; exited: Promise<NodeJS.Signals | number | null> };

// One past VOD per streamer; two thirds never saved, so each costs every candidate (4 domains × 3 ts
// forms = 12 requests) and the fetchers always have more to ask than the budget lets through.
const streamers = Array.from({ length: STREAMERS }, (_, i) => ({
  login: `ff_${i}`,
  id: String(5100 + i),
  viewers: 100 + i,
  domain: DOMAINS[i % DOMAINS.length],
  sessions: [{ start: `-${200 - i}m`, duration: "30m", saved: i % 3 === 0 }],
}));

function spawnFetcher(env: Record<string, string>): Child {
  const base = childEnv({
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    DATABASE_URL: db.url,
    CDN_DOMAINS: DOMAINS.join(","),
    CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
    RATE_PER_SECOND: String(RATE),
    GQL_LOOKUP: "false",
    STOP_PROBABILITY: "0",
    CONCURRENCY: "8",
    BATCH_MAX_MESSAGES: "8",
    REQUEST_RETRIES: "1",
    RETRY_BACKOFF: "50ms",
    OPS_PORT: "0",
    LOG_LEVEL: "warn",
    ...env,
  });
  // Redis only where the test gives it: one in the calling shell's environment must not share a budget the test means to be separate.
  if (env.REDIS_URL === undefined) delete base.REDIS_URL;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("../services/hls-fetcher/src/main.ts", import.meta.url))],
    {
      env: base,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  child.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
  const c: Child = {
    child,
    output,
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code))),
  };
  children.push(c);
  return c;
}

async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
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
  await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
  const redis = inject("redisUrl");
  const pair = egress.map((e) =>
    spawnFetcher({ TOPIC_PREFIX: prefix, GROUP_ID: groupId, REDIS_URL: redis, CDN_EGRESS: e }),
  );
  await until(() => balanced(groupId, 2), "both fetchers joined the group and have partitions");
  const vods = sim.vods({ state: "ended" });
  sim.resetStats();
  await producer.send(catalog.vodFetchRequests, vods.map(request));
  await until(
    async () => (await readAll(kafka, catalog.vodFetchResults.name, testLog)).length >= vods.length,
    "every VOD has a result",
    120_000,
  );
  const stats = sim.stats();
  const results = (await readAll(kafka, catalog.vodFetchResults.name, testLog)).map((r) =>
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
  db = await freshDatabase();
  producer = await createProducer(kafka, testLog);
  admin = kafka.admin();
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
  await producer?.disconnect();
  await db?.drop();
  await sim?.close();
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
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: db.url,
      TOPIC_PREFIX: prefix,
      GROUP_ID: groupId,
      CDN_DOMAINS: DOMAINS.join(","),
      CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
      GQL_LOOKUP: "false",
      ...extra,
    });
  const clock = { now: () => Date.now(), realDelay: (ms: number) => ms };

  it("a second process without REDIS_URL exits 1 naming the reason; a restart after kill -9 is not refused by its ghost", async () => {
    const groupId = uniqueName("alone");
    const prefix = `${uniqueName("ffa")}.`;
    const catalog = createCatalog(prefix);
    await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
    const first = spawnFetcher({ TOPIC_PREFIX: prefix, GROUP_ID: groupId });
    await until(async () => (await members(groupId)) === 1, "the first fetcher joined");
    const second = spawnFetcher({ TOPIC_PREFIX: prefix, GROUP_ID: groupId });
    expect(await second.exited).toBe(1);
    const said = second.output.join("");
    expect(said).toContain("hls-fetcher refused to start");
    expect(said).toMatch(/another hls-fetcher of group .* is running: without REDIS_URL/);

    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    // The broker still lists the dead member until its session expires; the lock went with its connection.
    const third = spawnFetcher({ TOPIC_PREFIX: prefix, GROUP_ID: groupId });
    // A refusal comes within its start (a few seconds): still running after 12 s, it was let in.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(third.child.exitCode, third.output.join("")).toBeNull();
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  }, 120_000);

  it("in process: without Redis the second is refused, beside one with Redis too, and once the first stops one may start", async () => {
    const groupId = uniqueName("inproc");
    const catalog = createCatalog(prefix);
    await createTestTopics(kafka, [catalog.vodFetchRequests, catalog.vodFetchResults]);
    const a = await startFetcher(env(groupId), { kafka, producer, db: db.db, clock, log: testLog });
    await expect(startFetcher(env(groupId), { kafka, producer, db: db.db, clock, log: testLog })).rejects.toThrow(
      InstanceRefused,
    );
    await expect(
      startFetcher(env(groupId, { REDIS_URL: inject("redisUrl") }), {
        kafka,
        producer,
        db: db.db,
        clock,
        log: testLog,
      }),
    ).rejects.toThrow(/runs without REDIS_URL/);
    // Another group is another budget owner.
    const other = await startFetcher(env(uniqueName("other")), { kafka, producer, db: db.db, clock, log: testLog });
    await other.stop();
    await a.stop();
    const b = await startFetcher(env(groupId), { kafka, producer, db: db.db, clock, log: testLog });
    await b.stop();
  }, 120_000);
});
