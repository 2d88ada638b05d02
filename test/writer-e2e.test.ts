import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createCatalog,
  createProducer,
  type StreamSnapshot,
  type TypedProducer,
  type VodFetchResult,
} from "@vod/kafka";
import { createDb, createPool } from "@vod/db";
import {
  caughtUp,
  committedOffsets,
  createTestTopics,
  testKafka,
  testLog,
  uniqueName,
  until,
  useDatabases,
  type TestDatabase,
} from "@vod/testing";
import { readEnv, startWriter } from "@vod/writer";
import { spawnService } from "./fixtures/services.ts";

const kafka = testKafka();
const prefix = `${uniqueName("we2e")}.`;
const catalog = createCatalog(prefix);
let producer: TypedProducer;
const newDb = useDatabases();

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const VODS = 2_000;
const T0 = Date.UTC(2025, 0, 6, 12);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Snapshots with duplicates and out-of-order sightings, restarts under one stream id, fetch results whose order mixes found and
 * failed, and VODs under MIN_VIEWERS in all or part of their sightings.
 */
function generate() {
  const r = rng(42);
  const snapshots: StreamSnapshot[] = [];
  const results: VodFetchResult[] = [];
  for (let i = 0; i < VODS; i++) {
    const streamerId = String(100 + (i % 700));
    const streamId = String(5_000_000 + Math.floor(i / 2) * (i % 10 === 1 ? 1 : 2) + (i % 10 === 1 ? 0 : i % 2));
    const start = T0 + Math.floor(r() * 86_400) * 1000 + (i % 7);
    const sightings = 1 + Math.floor(r() * 12);
    // Some VODs stay under MIN_VIEWERS (10), some only in part of their sightings.
    const audience = i % 25 === 3 ? 10 : i % 25 === 4 ? 20 : 5_000;
    for (let s = 0; s < sightings; s++) {
      const observed = start + 60_000 + Math.floor(r() * 6) * 300_000;
      snapshots.push({
        v: 1,
        sweepId: `sw${s}`,
        observedAt: iso(observed),
        streamId,
        startTime: iso(start),
        streamerId,
        login: `user_${streamerId}`,
        viewers: Math.floor(r() * audience),
        title: `title ${Math.floor(r() * 4)}`,
        gameId: String(Math.floor(r() * 9)),
        gameName: `game ${Math.floor(r() * 9)}`,
        language: r() < 0.5 ? "en" : null,
        mature: r() < 0.1,
      });
    }
    const fetches = r() < 0.6 ? 1 + Math.floor(r() * 3) : 0;
    for (let f = 0; f < fetches; f++) {
      const outcome = (["found", "failed", "not_found", "failed"] as const)[Math.floor(r() * 4)]!;
      const body = `#EXTM3U\n#EXTINF:10.000,\nhttp://cdn.example/${streamId}/${f}.ts\n#EXT-X-ENDLIST\n`;
      results.push({
        v: 1,
        streamId,
        startTime: iso(start),
        streamerId,
        login: `user_${streamerId}`,
        firstSeen: iso(start + 60_000),
        lastSeen: iso(start + 1_800_000),
        maxViewers: Math.floor(r() * audience),
        outcome,
        fetchedAt: iso(start + 7_200_000 + Math.floor(r() * 4) * 3_600_000),
        requests: 1 + Math.floor(r() * 12),
        found:
          outcome === "found"
            ? {
                domain: "d.example",
                url: `http://cdn.example/${streamId}/index-dvr.m3u8`,
                variant: "start",
                ts: Math.floor(start / 1000),
                durationSeconds: 10,
                segments: 1,
                mutedSegments: 0,
                playlistGzipBase64: gzipSync(body).toString("base64"),
              }
            : null,
        error: outcome === "failed" ? `d.example: timeout ${f}` : null,
      });
    }
  }
  // Shuffle so sightings and outcomes of one VOD arrive out of order (within a streamer's partition too).
  for (const list of [snapshots, results] as unknown[][]) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
  }
  return { snapshots, results };
}

const data = generate();

beforeAll(async () => {
  producer = await createProducer(kafka, testLog);
  await createTestTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults]);
  for (let i = 0; i < data.snapshots.length; i += 2_000)
    await producer.send(catalog.streamSnapshots, data.snapshots.slice(i, i + 2_000));
  await producer.send(catalog.vodFetchResults, data.results);
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
});

const env = (databaseUrl: string, groupId: string, extra: Record<string, string> = {}) => ({
  KAFKA_BROKERS: inject("kafkaBrokers").join(","),
  DATABASE_URL: databaseUrl,
  TOPIC_PREFIX: prefix,
  GROUP_ID: groupId,
  BATCH_MAX_MESSAGES: "500",
  OPS_PORT: "0",
  LOG_LEVEL: "warn",
  RETRY_INITIAL: "50ms",
  RETRY_MAX: "500ms",
  ...extra,
});

/** True once the group has committed everything on both topics. */
const caughtUpBoth = (groupId: string) =>
  caughtUp(kafka, groupId, [catalog.streamSnapshots.name, catalog.vodFetchResults.name]);

// Every column but the surrogate id and updated_at (set by the server clock).
const COLUMNS =
  "stream_id, start_time, streamer_id, login, title, game_id, game_name, language, mature, start_fields_seen_at, max_viewers, first_seen, last_seen, " +
  "outcome, fetched_at, fetch_requests, domain, url, ts_variant, duration_seconds, segment_count, muted_count, md5(playlist_gz), fetch_error, public, sub_only";
async function checksum(d: TestDatabase): Promise<{ rows: number; md5: string }> {
  const { rows } = await d.pool.query<{ rows: number; md5: string }>(
    `select count(*)::int as rows, md5(string_agg(row(${COLUMNS})::text, E'\\n' order by stream_id, start_time)) as md5 from vods`,
  );
  return rows[0]!;
}
async function versions(d: TestDatabase): Promise<string[]> {
  const { rows } = await d.pool.query<{ v: string }>(`select id || ':' || xmin::text as v from vods order by id`);
  return rows.map((r) => r.v);
}

/** Runs the writer in this process until it has committed everything. */
async function runToEnd(d: TestDatabase, groupId: string, extra: Record<string, string> = {}) {
  const pool = createPool({ url: d.url, max: 4 });
  const writer = await startWriter(readEnv(env(d.url, groupId, extra)), {
    kafka,
    producer,
    db: createDb(pool),
    log: testLog,
  });
  try {
    await until(() => caughtUpBoth(groupId), 90_000, "caught up on both topics");
  } finally {
    await writer.stop();
    await pool.end();
  }
}

let reference: { rows: number; md5: string };
let referenceDb: TestDatabase;

describe("writer end to end (broker, Postgres)", () => {
  it("upserts every VOD once with the merge rules, and found outcomes survive later failures", async () => {
    referenceDb = await newDb();
    await runToEnd(referenceDb, uniqueName("writer-ref"));
    reference = await checksum(referenceDb);
    // Rows only for VODs that reached MIN_VIEWERS (10), by a snapshot or by the delay's sightings in a result.
    const reached = (v: { viewers?: number; maxViewers?: number }) => (v.viewers ?? v.maxViewers!) >= 10;
    const distinct = new Set(
      [...data.snapshots, ...data.results].filter(reached).map((s) => `${s.streamId}@${s.startTime}`),
    );
    const all = new Set(data.snapshots.map((s) => `${s.streamId}@${s.startTime}`));
    expect(distinct.size).toBeLessThan(all.size);
    expect(reference.rows).toBe(distinct.size);

    // Spot-check the rules against the generated data.
    type Row = {
      stream_id: string;
      start_time: Date;
      max_viewers: number;
      title: string | null;
      last_seen: Date;
      outcome: string | null;
    };
    const { rows } = await referenceDb.pool.query<Row>(
      `select stream_id::text, start_time, max_viewers, title, last_seen, outcome from vods`,
    );
    const byKey = new Map(rows.map((r) => [`${r.stream_id}@${r.start_time.toISOString()}`, r]));
    for (const key of distinct) {
      const sightings = data.snapshots.filter((s) => `${s.streamId}@${s.startTime}` === key && reached(s));
      const fetches = data.results.filter((s) => `${s.streamId}@${s.startTime}` === key && reached(s));
      const row = byKey.get(key)!;
      expect(row.max_viewers).toBe(Math.max(...sightings.map((s) => s.viewers), ...fetches.map((f) => f.maxViewers)));
      expect(row.last_seen.getTime()).toBe(
        Math.max(...sightings.map((s) => Date.parse(s.observedAt)), ...fetches.map((f) => Date.parse(f.lastSeen))),
      );
      const earliest = Math.min(...sightings.map((s) => Date.parse(s.observedAt)));
      if (sightings.length === 0) expect(row.title).toBeNull();
      else
        expect(sightings.filter((s) => Date.parse(s.observedAt) === earliest).map((s) => s.title)).toContain(row.title);
      if (fetches.some((f) => f.outcome === "found")) expect(row.outcome).toBe("found");
      else if (fetches.some((f) => f.outcome === "not_found")) expect(row.outcome).toBe("not_found");
      else expect(row.outcome).toBe(fetches.length > 0 ? "failed" : null);
    }
  }, 120_000);

  it("kill -9 mid-batch and restart: the tables equal the run without the kill; a replay from offset 0 changes no row", async () => {
    const d = await newDb();
    const groupId = uniqueName("writer-kill");
    const start = () => spawnService("writer", env(d.url, groupId));
    const first = start();
    await until(async () => (await checksum(d)).rows > 200, 90_000, "200 rows written");
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    expect(await caughtUpBoth(groupId)).toBe(false);

    const second = start();
    await until(() => caughtUpBoth(groupId), 90_000, "caught up on both topics");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(await checksum(d)).toEqual(reference);

    // A new group reads both topics from offset 0: every upsert conflicts and finds nothing to change.
    const before = await versions(d);
    await runToEnd(d, uniqueName("writer-replay"));
    expect(await checksum(d)).toEqual(reference);
    expect(await versions(d)).toEqual(before);
  }, 120_000);

  it("Postgres refusing connections: the writer retries with backoff, commits nothing meanwhile, loses nothing", async () => {
    const d = await newDb();
    const dbName = new URL(d.url).pathname.slice(1);
    const groupId = uniqueName("writer-down");
    const admin = createPool({ url: inject("databaseUrl"), max: 1 });
    await admin.query(`alter database ${dbName} allow_connections false`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [dbName]);
    const pool = createPool({ url: d.url, max: 4, connectionTimeoutMs: 1_000 });
    const writer = await startWriter(readEnv(env(d.url, groupId)), {
      kafka,
      producer,
      db: createDb(pool),
      log: testLog,
    });
    try {
      await new Promise((r) => setTimeout(r, 3_000));
      const committed = await committedOffsets(kafka, groupId, catalog.streamSnapshots.name);
      expect([...committed.values()].every((o) => o === -1n)).toBe(true);
      await admin.query(`alter database ${dbName} allow_connections true`);
      await until(() => caughtUpBoth(groupId), 90_000, "caught up on both topics");
    } finally {
      await writer.stop();
      await pool.end();
      await admin.query(`alter database ${dbName} allow_connections true`);
      await admin.end();
    }
    expect(await checksum(d)).toEqual(reference);
  }, 120_000);
});
