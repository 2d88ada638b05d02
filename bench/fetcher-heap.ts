/**
 * The fetcher's streamer knowledge over a simulated week: 168,000 VODs a day from a population of
 * streamers larger than the cache, each batch looked up (warm), learned from (found / not found) and
 * flushed to PostgreSQL as the service does. Prints the heap after each day (after a full GC): with
 * the LRU cache it stops growing once the cache is full, whatever the number of streamers seen.
 *   node --expose-gc --import tsx bench/fetcher-heap.ts [--days 7] [--per-day 168000] [--streamers 600000] [--cache 100000]
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { createDb, createPool, runMigrations } from "@vod/db";
import { DomainKnowledge } from "@vod/hls-fetcher";
import { benchEnv, ensureInfra } from "./env.ts";

await ensureInfra(["postgres"]);

const { values: args } = parseArgs({
  options: {
    days: { type: "string", default: "7" },
    "per-day": { type: "string", default: "168000" },
    streamers: { type: "string", default: "600000" },
    cache: { type: "string", default: "100000" },
    batch: { type: "string", default: "1000" },
  },
});
const DAYS = Number(args.days);
const PER_DAY = Number(args["per-day"]);
const STREAMERS = Number(args.streamers);
const CACHE = Number(args.cache);
const BATCH = Number(args.batch);
const DOMAINS = ["d1.example", "d2.example", "d3.example", "d4.example"];
const T0 = Date.UTC(2026, 0, 5);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

async function admin(query: string): Promise<void> {
  const c = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
  await c.connect();
  try {
    await c.query(query);
  } finally {
    await c.end();
  }
}

const name = `bench_heap_${process.pid}_${Date.now().toString(36)}`;
await admin(`create database ${name}`);
const url = new URL(benchEnv.DATABASE_URL);
url.pathname = `/${name}`;
const pool = createPool({ url: url.toString(), max: 2, statementTimeoutMs: 120_000 });
const db = createDb(pool);
const heaps: { day: number; heapMb: number; streamersInMemory: number; rows: number }[] = [];
try {
  await runMigrations(db);
  const knowledge = await DomainKnowledge.load(db, {
    halfLifeMs: 6 * 3_600_000,
    failureThreshold: 3,
    cooldownMs: 120_000,
    streamerCacheSize: CACHE,
    streamerCacheTtlMs: 10 * 60_000,
  });
  // A skewed population: a few streamers stream daily, most rarely (one in `STREAMERS` draws by a power law).
  // mulberry32: seeded, so every run sees the same week.
  let seed = 1;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const streamer = () => String(1_000_000 + Math.floor(STREAMERS * next() ** 2));
  const started = performance.now();
  for (let day = 1; day <= DAYS; day++) {
    for (let done = 0; done < PER_DAY; done += BATCH) {
      const now = T0 + (day - 1) * 86_400_000 + Math.floor((done / PER_DAY) * 86_400_000);
      const ids = Array.from({ length: Math.min(BATCH, PER_DAY - done) }, streamer);
      await knowledge.warm(ids);
      for (const id of ids) {
        if (next() < 0.7)
          knowledge.found(
            id,
            knowledge.streamerDomain(id) ?? DOMAINS[Number(id) % DOMAINS.length]!,
            "start",
            now,
            next() < 0.9,
          );
        else knowledge.notFound(id, true, now);
      }
      await knowledge.flush(db);
    }
    gc();
    const rows = await pool.query<{ n: number }>("select count(*)::int as n from cdn_streamer_domains");
    const heapMb = Math.round((process.memoryUsage().heapUsed / 1_048_576) * 10) / 10;
    heaps.push({ day, heapMb, streamersInMemory: knowledge.streamersKnown, rows: rows.rows[0]!.n });
    console.log(
      `day ${day}: heap ${heapMb} MB, ${knowledge.streamersKnown} streamers in memory, ${rows.rows[0]!.n} in PostgreSQL (${Math.round((performance.now() - started) / 1000)} s)`,
    );
  }
} finally {
  await pool.end();
  await admin(`drop database if exists ${name} with (force)`);
}
const growthDay3to7 = heaps.length >= 7 ? Math.round((heaps[6]!.heapMb - heaps[2]!.heapMb) * 10) / 10 : null;
console.log(
  JSON.stringify({
    bench: "fetcher-heap",
    days: DAYS,
    perDay: PER_DAY,
    streamers: STREAMERS,
    cache: CACHE,
    heaps,
    growthDay3to7Mb: growthDay3to7,
  }),
);
