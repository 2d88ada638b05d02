// kill -9 of the hls-fetcher while CDN requests are in flight: the fetcher runs as its own process
// (its main.ts) against the simulator, the broker and a fresh database. Every CDN answer is held
// back a little by a latency fault whose waits the test schedules itself, so it knows which requests
// are in flight and kills the child at the moment one arrives. A second process takes over from the
// committed offsets; the results of both must cover every request with the simulator's truth.
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vodFetchRequest, vodFetchResult, type VodFetchRequest, type VodFetchResult } from "@vod/kafka";
import { cdnDomains, readAll, testLog, uniqueName, until, vodKey as keyOf, vodRequest, type Child } from "@vod/testing";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { fetcherWorld, spawnFetcher, type FetcherWorld } from "./fixtures/fetcher.ts";

// Four domains keep a cold miss at 12 requests; a fast rate keeps the file short (and leaves the
// sliding one-second count at the simulator 200 ms of slack over the limiter's spacing).
const DOMAINS = cdnDomains(4);
const RATE = 20;
const BATCH = 4;
const CONCURRENCY = 4;
const LATENCY_MS = 100;
const STREAMERS = 20;

const groupId = uniqueName("fetcher-kill");
let world: FetcherWorld;
let admin: Admin;
let sim: Simulator;

let current: Child | undefined;
let killOnNextRequest = false;
let inFlight = 0;
let inFlightAtKill = 0;

// Three VODs per streamer in the past, one domain per streamer: some never saved, some deleted, some
// with the −1 s start quirk, some restarts under the same stream id (the seconds-field path).
const streamers = Array.from({ length: STREAMERS }, (_, i) => ({
  login: `fk_${i}`,
  id: String(4100 + i),
  viewers: 100 + i,
  domain: DOMAINS[i % DOMAINS.length],
  sessions: [
    { start: `-${360 - i}m`, duration: "40m", variant: i % 5 === 1 ? ("minus1" as const) : ("start" as const) },
    { start: `-${240 - i}m`, duration: "30m", saved: i % 6 !== 2 },
    i % 7 === 3
      ? { start: `-${120 - i}m`, duration: "20m", deleteAfter: "5m" }
      : i % 8 === 5
        ? { start: `-${190 - i}m`, duration: "15m", sameStreamId: true }
        : { start: `-${120 - i}m`, duration: "20m" },
  ],
}));

const onCdn = (v: VodTruth) => v.saved && !v.deleted;
const RANK = { found: 3, not_found: 2, failed: 1, live: 0 } as const;

let truth: VodTruth[] = [];
let requests: { partition: number; offset: bigint; value: VodFetchRequest }[] = [];
let results: { partition: number; offset: bigint; value: VodFetchResult }[] = [];
let firstRunEnd = new Map<number, bigint>();
let committedAtKill = new Map<number, bigint>();
let learnedAtKill = new Map<string, string>();
let killedBy: NodeJS.Signals | number | null = null;
let stoppedWith: NodeJS.Signals | number | null = null;
let stats: ReturnType<Simulator["stats"]>;
let started = 0;

function spawnOne(): Child {
  return spawnFetcher({
    ...world.vars(DOMAINS, RATE, groupId),
    CONCURRENCY: String(CONCURRENCY),
    BATCH_MAX_MESSAGES: String(BATCH),
    REQUEST_RETRIES: "1",
    RETRY_BACKOFF: "50ms",
  });
}

async function offsets(topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.offset)]));
}
async function committed(): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [world.catalog.vodFetchRequests.name] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}
const total = (m: Map<number, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);

beforeAll(async () => {
  started = Date.now();
  sim = await startSimulator({
    speed: 1,
    streams: 0,
    domains: DOMAINS,
    rates: { otherDomain: 0 },
    streamers,
    faults: [{ kind: "latency", target: "cdn", ms: LATENCY_MS }],
    // The latency waits are the requests in flight: count them, and kill the child when told to, as one arrives.
    schedule: (ms, answer) => {
      if (killOnNextRequest && current) {
        current.child.kill("SIGKILL");
        killOnNextRequest = false;
        inFlightAtKill = inFlight + 1;
      }
      inFlight++;
      setTimeout(() => {
        inFlight--;
        answer();
      }, ms);
    },
  });
  world = await fetcherWorld("fk", sim);
  admin = world.kafka.admin();
  await admin.connect();

  truth = sim.vods({ state: "ended" }).sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  // Each streamer's first VOD for the first run; the later ones only after the kill, so the second
  // run meets streamers the first one learned, whichever partitions the first run got through.
  const asRequest = (v: VodTruth) => vodRequest(v);
  const firsts = new Set(streamers.map((s) => truth.find((v) => v.streamerId === s.id)!));
  await world.producer.send(world.catalog.vodFetchRequests, [...firsts].map(asRequest));
  current = spawnOne();
  // Two batches published (and so committed before the third began), then the next CDN request kills it.
  await until(
    async () => total(await offsets(world.catalog.vodFetchResults.name)) >= 2 * BATCH,
    90_000,
    "first run published two batches",
  );
  killOnNextRequest = true;
  const first = current;
  let gone = false;
  void first.exited.then(() => (gone = true));
  await until(
    async () => gone || total(await offsets(world.catalog.vodFetchResults.name)) >= BigInt(firsts.size),
    90_000,
    "the kill",
  );
  if (!gone) throw new Error("the first run answered every request before one arrived to kill it on");
  killedBy = await first.exited;
  firstRunEnd = await offsets(world.catalog.vodFetchResults.name);
  committedAtKill = await committed();
  const { rows } = await world.db.pool.query<{ streamer_id: string; domain: string }>(
    "select streamer_id::text, domain from cdn_streamer_domains",
  );
  learnedAtKill = new Map(rows.map((r) => [r.streamer_id, r.domain]));

  await world.producer.send(world.catalog.vodFetchRequests, truth.filter((v) => !firsts.has(v)).map(asRequest));
  // It gets its partitions once the dead member's session (30 s) has expired.
  current = spawnOne();
  const ends = await offsets(world.catalog.vodFetchRequests.name);
  await until(
    async () => {
      const c = await committed();
      return [...ends].every(([p, end]) => (c.get(p) ?? -1n) >= end);
    },
    90_000,
    "second run committed every request",
  );
  current.child.kill("SIGTERM");
  stoppedWith = await current.exited;
  current = undefined;
  stats = sim.stats();

  requests = (await readAll(world.kafka, world.catalog.vodFetchRequests.name, testLog)).map((r) => ({
    partition: r.partition,
    offset: BigInt(r.offset),
    value: vodFetchRequest.parse(r.value),
  }));
  results = (await readAll(world.kafka, world.catalog.vodFetchResults.name, testLog)).map((r) => ({
    partition: r.partition,
    offset: BigInt(r.offset),
    value: vodFetchResult.parse(r.value),
  }));
}, 150_000);

afterAll(async () => {
  current?.child.kill("SIGKILL");
  await current?.exited;
  await admin?.disconnect();
  await world?.close();
});

describe("hls-fetcher killed with -9 while requests are in flight", () => {
  it("was killed mid-run with CDN requests in flight, after publishing some batches and before the rest", async () => {
    expect(killedBy).toBe("SIGKILL");
    expect(inFlightAtKill).toBeGreaterThanOrEqual(1);
    const firstRun = total(firstRunEnd);
    expect(firstRun).toBeGreaterThanOrEqual(2 * BATCH);
    expect(firstRun).toBeLessThan(BigInt(truth.length));
    expect(total(committedAtKill)).toBeLessThan(BigInt(truth.length));
    expect(stoppedWith).toBe(0);
  });

  it("every request has a result; requests below the offsets committed at the kill have one from the first run", () => {
    expect(requests).toHaveLength(truth.length);
    const byKey = new Map<string, { run: 1 | 2 }[]>();
    for (const r of results) {
      const run = r.offset < (firstRunEnd.get(r.partition) ?? 0n) ? 1 : 2;
      byKey.set(keyOf(r.value), [...(byKey.get(keyOf(r.value)) ?? []), { run }]);
    }
    expect(new Set(byKey.keys())).toEqual(new Set(requests.map((r) => keyOf(r.value))));
    for (const r of requests) {
      const runs = byKey.get(keyOf(r.value))!.map((x) => x.run);
      // Committed means published: what the restart did not redo, the first run had answered.
      if (r.offset < (committedAtKill.get(r.partition) ?? 0n))
        expect(runs, `${r.value.login} ${r.value.startTime}`).toContain(1);
      else expect(runs, `${r.value.login} ${r.value.startTime}`).toContain(2);
    }
  });

  it("duplicates are counted and stay within the one batch that was in flight", () => {
    const duplicates = results.length - new Set(results.map((r) => keyOf(r.value))).size;
    console.info(
      `fetcher kill -9: ${truth.length} requests, ${results.length} results, ${duplicates} duplicates, ${inFlightAtKill} CDN requests in flight at the kill, busiest second ${stats.cdn.maxPerSecond} requests, ${Math.round((Date.now() - started) / 1000)} s`,
    );
    expect(duplicates).toBeLessThanOrEqual(BATCH);
  });

  it("the outcome of each VOD (found > not_found > failed) is the simulator's truth", () => {
    expect(truth.filter(onCdn).map((v) => v.variant)).toEqual(expect.arrayContaining(["start", "minus1", "seconds"]));
    expect(truth.filter((v) => !v.saved).length).toBeGreaterThan(0);
    expect(truth.filter((v) => v.deleted).length).toBeGreaterThan(0);
    const best = new Map<string, VodFetchResult>();
    for (const { value } of results) {
      const prev = best.get(keyOf(value));
      if (!prev || RANK[value.outcome] > RANK[prev.outcome]) best.set(keyOf(value), value);
    }
    for (const v of truth) {
      const r = best.get(keyOf(v));
      expect(r, `${v.login} ${v.startTime} has no result`).toBeDefined();
      expect(r!.outcome, `${v.login} ${v.startTime}`).toBe(onCdn(v) ? "found" : "not_found");
      if (r!.outcome === "found") expect(r!.found).toMatchObject({ domain: v.domain, variant: v.variant, ts: v.ts });
    }
  });

  it("what it learned is consistent after the restart, and the restart used it", async () => {
    const found = truth.filter(onCdn);
    const { rows: streamerRows } = await world.db.pool.query<{ streamer_id: string; domain: string; found_at: Date }>(
      "select streamer_id::text, domain, found_at from cdn_streamer_domains",
    );
    const domainOf = new Map(truth.map((v) => [v.streamerId, v.domain]));
    expect(new Map(streamerRows.map((r) => [r.streamer_id, r.domain]))).toEqual(
      new Map(found.map((v) => [v.streamerId, v.domain])),
    );
    for (const r of streamerRows) expect(r.found_at.getTime()).toBeLessThanOrEqual(Date.now());
    // What the first run had saved when it died was already right.
    for (const [id, domain] of learnedAtKill) expect(domain).toBe(domainOf.get(id));

    const { rows: health } = await world.db.pool.query<{
      domain: string;
      score: number;
      consecutive_failures: number;
      last_success_at: Date | null;
      last_failure_at: Date | null;
    }>("select domain, score, consecutive_failures, last_success_at, last_failure_at from cdn_domain_health");
    expect(health.map((h) => h.domain).sort()).toEqual([...DOMAINS].sort());
    const foundResults = results.filter((r) => r.value.outcome === "found");
    for (const h of health) {
      expect(h).toMatchObject({ consecutive_failures: 0, last_failure_at: null });
      expect(h.last_success_at).not.toBeNull();
      // Each hit counts once per fetch that saved it: every VOD found at least once (barely decayed
      // over a minute of a 6 h half-life), at most once per result plus the batch the kill lost.
      const distinct = found.filter((v) => v.domain === h.domain).length;
      const hits = foundResults.filter((r) => r.value.found!.domain === h.domain).length;
      expect(h.score).toBeGreaterThanOrEqual(distinct * 0.99);
      expect(h.score).toBeLessThanOrEqual(hits + BATCH);
    }

    // The second process started from what the first saved: a known streamer's plain-start VOD costs one request.
    const warm = results.filter(
      (r) =>
        r.offset >= (firstRunEnd.get(r.partition) ?? 0n) &&
        learnedAtKill.has(r.value.streamerId) &&
        r.value.outcome === "found" &&
        r.value.found!.variant === "start",
    );
    expect(warm.length).toBeGreaterThan(0);
    for (const r of warm) expect(r.value.requests, r.value.login).toBe(1);
  });

  it("the CDN never saw more than the configured rate in any second, across both runs", () => {
    expect(stats.cdn.requests).toBeGreaterThanOrEqual(results.reduce((s, r) => s + r.value.requests, 0));
    expect(stats.cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
  });
});
