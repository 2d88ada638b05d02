import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDb, createPool } from "@vod/db";
import { createCatalog, createProducer, vodFetchRequest, type RunningConsumer, type TypedProducer } from "@vod/kafka";
import {
  caughtUp,
  cdnDomains,
  createTestTopics,
  endOffsets,
  freshDatabase,
  readTopic,
  scriptedSimulator,
  testKafka,
  testLog,
  uniqueName,
  until,
  vodKey as keyOf,
  vodRequest as request,
  type TestDatabase,
} from "@vod/testing";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import type { RunningFetcher } from "@vod/hls-fetcher";
import { readEnv as writerEnv, startWriter } from "@vod/writer";
import { doctor, parseReplayArgs, replay, type DoctorReport } from "@vod/cli";
import { EXHAUSTIVE, fetcherVars, SHORT_TIMEOUTS, startSimFetcher } from "./fixtures/fetcher.ts";

// Four domains keep a cold not-found fetch at 12 requests; the fault takes all of them down.
const DOMAINS = cdnDomains(4);
const RATE = 20;
const MIN = 60_000;
const OUTAGE_MS = 20 * MIN;

const kafka = testKafka();
const prefix = `${uniqueName("rw")}.`;
const catalog = createCatalog(prefix);
const fetcherGroup = uniqueName("fetcher");
const writerGroup = uniqueName("writer");
let producer: TypedProducer;
let db: TestDatabase;
let writerPool: ReturnType<typeof createPool>;
let sim: Simulator;
let fetcher: RunningFetcher | undefined;
let writer: RunningConsumer | undefined;

/** Simulated start of the outage, set once the world has some ended VODs. */
let outageFrom: number;
/** Every fetch request this file published, by VOD key. */
const published = new Map<string, { vod: VodTruth; phase: Phase }>();
let messagesOnTopic = 0;
type Phase = "before" | "during" | "after";

const onCdn = (v: VodTruth) => v.saved && !v.deleted;

beforeAll(async () => {
  sim = await scriptedSimulator(
    606,
    DOMAINS,
    [
      // VODs the CDN never holds or no longer holds, so every phase has not_found cases too.
      {
        login: "gone_soon",
        id: "3001",
        viewers: 300,
        domain: DOMAINS[1],
        sessions: [
          { start: "+20m", duration: "40m", deleteAfter: "10m" },
          { start: "+2h", duration: "30m", deleteAfter: "5m" },
        ],
      },
      {
        login: "never_kept",
        id: "3002",
        viewers: 200,
        domain: DOMAINS[2],
        sessions: [
          { start: "+30m", duration: "30m", saved: false },
          { start: "+3h", duration: "20m", saved: false },
        ],
      },
    ],
    { streams: 12 },
  );
  sim.clock.advance(5 * 60 * MIN);
  outageFrom = sim.clock.now() + 15 * MIN;
  sim.faults.add({ id: "outage", kind: "down", from: outageFrom, for: OUTAGE_MS });

  db = await freshDatabase();
  writerPool = createPool({ url: db.url, max: 2 });
  producer = await createProducer(kafka, testLog);
  await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchRequests, catalog.vodFetchResults]);

  // The fetcher reads the simulator's time: the outage window and the domains' cooldowns are in the same clock.
  // Several VODs at a time: after the outage, fetches that meet a domain's probe in flight wait for its verdict.
  fetcher = await startSimFetcher(
    {
      ...fetcherVars({ db, prefix, groupId: fetcherGroup, sim, domains: DOMAINS, rate: RATE }),
      ...SHORT_TIMEOUTS,
      ...EXHAUSTIVE,
      REQUEST_RETRIES: "1",
      RETRY_BACKOFF: "50ms",
      CONCURRENCY: "8",
      // The operator's replay is what this test is about: automatic retries wait past the run.
      RETRY_INITIAL: "24h",
      RETRY_MAX: "24h",
    },
    { kafka, producer, db, sim },
  );
  writer = await startWriter(
    writerEnv({
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: db.url,
      TOPIC_PREFIX: prefix,
      GROUP_ID: writerGroup,
      BATCH_MAX_WAIT: "100ms",
      BATCH_MIN_BYTES: "1",
    }),
    { kafka, producer, db: createDb(writerPool), log: testLog },
  );
}, 120_000);

afterAll(async () => {
  await fetcher?.stop();
  await writer?.stop();
  await producer?.disconnect();
  await writerPool?.end();
  await db?.drop();
  await sim?.close();
});

/** Waits until the fetcher has answered every request on the topic and the writer has stored every answer. */
/** The group has handled everything on the topic. */
const caughtUpOn = (group: string, topic: string) => caughtUp(kafka, group, [topic]);
const messagesIn = async (topic: string) =>
  Number([...(await endOffsets(kafka, topic)).values()].reduce((s, o) => s + o, 0n));

async function settle(): Promise<void> {
  const total = messagesOnTopic;
  const within = 60_000;
  await until(async () => (await messagesIn(catalog.vodFetchRequests.name)) === total, within, "requests on the topic");
  await until(() => caughtUpOn(fetcherGroup, catalog.vodFetchRequests.name), within, "fetcher caught up");
  await until(async () => (await messagesIn(catalog.vodFetchResults.name)) >= total, within, "results on the topic");
  await until(() => caughtUpOn(writerGroup, catalog.vodFetchResults.name), within, "writer caught up");
}

/** Moves simulated time to `at`, publishes the requests of one release batch, and waits until they are in Postgres. */
async function release(at: number, phase: Phase, vods: VodTruth[]): Promise<void> {
  sim.clock.set(at);
  await producer.send(
    catalog.vodFetchRequests,
    vods.map((v) => request(v)),
  );
  messagesOnTopic += vods.length;
  for (const v of vods) published.set(keyOf(v), { vod: v, phase });
  await settle();
}

interface Row {
  stream_id: string;
  start_time: Date;
  outcome: string | null;
  domain: string | null;
  segment_count: number | null;
  playlist_gz: Buffer | null;
  fetch_error: string | null;
}
async function rows(): Promise<Map<string, Row>> {
  const { rows } = await db.pool.query<Row>(
    `select stream_id::text, start_time, outcome, domain, segment_count, playlist_gz, fetch_error from vods`,
  );
  return new Map(rows.map((r) => [keyOf({ streamId: r.stream_id, startTime: r.start_time }), r]));
}

const doctorReport = (): Promise<DoctorReport> =>
  doctor({
    kafka,
    db: db.db,
    requestsTopic: catalog.vodFetchRequests.name,
    fetcherGroup,
    now: new Date(),
    sinceMs: 60 * MIN,
    overdueAfterMs: 15 * MIN,
    windowGapMs: 10 * MIN,
  });

const failedBeforeReplay = new Set<string>();

describe("failed-window replay (broker, Postgres, simulator, fetcher, writer)", () => {
  it("a 20-minute outage of every CDN domain: VODs fetched inside it come out failed, the others found or not_found", async () => {
    // VODs whose CDN state stays the same for the whole test (no deletion due while it runs).
    const now = sim.clock.now();
    const stable = sim
      .vods({ state: "ended" })
      .filter(
        (v) =>
          v.deletedAt === null ||
          Date.parse(v.deletedAt) < now - 5 * MIN ||
          Date.parse(v.deletedAt) > now + 3 * 60 * MIN,
      );
    const missing = stable.filter((v) => !onCdn(v));
    const held = stable.filter(onCdn);
    expect(missing.length).toBeGreaterThanOrEqual(3);
    expect(held.length).toBeGreaterThanOrEqual(15);

    // Release batches (simulated minutes from the outage start): two before, five inside, two after the
    // cooldown that follows it. The absent VODs are dealt first, so each phase has some.
    const slots: [number, Phase][] = [
      [-10, "before"],
      [-5, "before"],
      [0, "during"],
      [5, "during"],
      [10, "during"],
      [15, "during"],
      [19, "during"],
      [OUTAGE_MS / MIN + 5, "after"],
      [OUTAGE_MS / MIN + 10, "after"],
    ];
    const order = [0, 2, 7, 3, 8, 1, 4, 5, 6];
    const batches = slots.map(() => [] as VodTruth[]);
    [...missing, ...held].forEach((v, i) => batches[order[i % order.length]!]!.push(v));

    for (const [i, [minute, phase]] of slots.entries()) {
      // The broker's timestamps are what doctor and replay see: leave a second of wall time between phases,
      // as a compressed clock would, so the window's edges are apart.
      if (i > 0 && slots[i - 1]![1] !== phase) await new Promise((r) => setTimeout(r, 1_100));
      await release(outageFrom + minute * MIN, phase, batches[i]!);
    }

    const stored = await rows();
    expect(stored.size).toBe(published.size);
    const counts = { before: 0, during: 0, after: 0 };
    for (const [key, { vod, phase }] of published) {
      const row = stored.get(key)!;
      counts[phase]++;
      if (phase === "during") {
        expect(row.outcome, `${vod.login} fetched during the outage`).toBe("failed");
        expect(row.fetch_error).toMatch(/HTTP 503|skipped, failing/);
        failedBeforeReplay.add(key);
      } else {
        expect(row.outcome, `${vod.login} fetched ${phase} the outage`).toBe(onCdn(vod) ? "found" : "not_found");
      }
    }
    expect(counts.before).toBeGreaterThan(0);
    expect(counts.during).toBeGreaterThan(0);
    expect(counts.after).toBeGreaterThan(0);
    expect([...published.values()].filter((p) => p.phase === "during").some((p) => !onCdn(p.vod))).toBe(true);
    const downAnswers = sim.stats().requests.filter((r) => r.status === 503);
    expect(new Set(downAnswers.map((r) => r.domain))).toEqual(new Set(DOMAINS));
  }, 120_000);

  it("doctor names exactly that window; replaying it re-fetches only those VODs, archives every VOD the CDN holds, and leaves no duplicate row", async () => {
    expect(failedBeforeReplay.size).toBeGreaterThan(0);
    const before = await doctorReport();
    expect(before.overdue).toEqual([]);
    expect(before.failedWindows).toHaveLength(1);
    const window = before.failedWindows[0]!;
    expect(window.vods).toBe(failedBeforeReplay.size);

    // Run the command doctor prints, through the replay CLI's own argument parser.
    const argv = window.command.split(" ");
    expect(argv.slice(0, 4)).toEqual(["npm", "run", "replay", "--"]);
    const opts = parseReplayArgs(argv.slice(4));
    expect(opts).toMatchObject({ group: fetcherGroup, topic: catalog.vodFetchRequests.name, to: window.to });
    const result = await replay(kafka, producer, opts);
    expect(result).toMatchObject({ mode: "window", applied: true });
    expect(result.republished).toBe(failedBeforeReplay.size);
    expect(result.partitions.reduce((s, p) => s + Number(BigInt(p.end!) - BigInt(p.target)), 0)).toBe(
      failedBeforeReplay.size,
    );
    messagesOnTopic += result.republished;

    // The re-published messages are the failed VODs' requests, each once, and nothing else.
    const onTopic = await readTopic(kafka, catalog.vodFetchRequests.name, messagesOnTopic);
    expect(onTopic).toHaveLength(messagesOnTopic);
    const replayed = onTopic
      .filter((m) => m.headers["replay-of"] !== undefined)
      .map((m) => keyOf(vodFetchRequest.parse(JSON.parse(m.value!))));
    expect(replayed.sort()).toEqual([...failedBeforeReplay].sort());

    await settle();
    const stats = sim.stats();
    // One result per request: the replay fetched each failed VOD once more, nothing else.
    expect(await messagesIn(catalog.vodFetchResults.name)).toBe(messagesOnTopic);

    // Truth now, after all the simulated time the test moved through.
    const truth = new Map(sim.vods({ state: "ended" }).map((v) => [keyOf(v), v]));
    const stored = await rows();
    let found = 0;
    for (const key of published.keys()) {
      const vod = truth.get(key)!;
      const row = stored.get(key)!;
      if (onCdn(vod)) {
        found++;
        expect(row, vod.login).toMatchObject({ outcome: "found", domain: vod.domain, segment_count: vod.segments });
        const playlist = gunzipSync(row.playlist_gz!).toString("utf8");
        expect(playlist.startsWith("#EXTM3U")).toBe(true);
        expect(playlist).toContain("#EXT-X-ENDLIST");
      } else {
        expect(row.outcome, vod.login).toBe("not_found");
        expect(row.playlist_gz).toBeNull();
      }
    }
    expect(found).toBeGreaterThan(0);

    const dup = await db.pool.query(
      `select stream_id, start_time, count(*) from vods group by stream_id, start_time having count(*) > 1`,
    );
    expect(dup.rows).toEqual([]);
    const { rows: count } = await db.pool.query<{ n: number }>(`select count(*)::int as n from vods`);
    expect(count[0]!.n).toBe(published.size);

    const after = await doctorReport();
    expect(after.failedWindows).toEqual([]);
    expect(after.overdue).toEqual([]);

    expect(stats.cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
  }, 120_000);
});
