/**
 * Writer benchmark: snapshots upserted per second, from Kafka into Postgres, through the real
 * writer (consumer runtime, merge, one transaction per batch). Also times the two ways of writing
 * one batch: unnest arrays (what the writer does) against a drizzle multi-row VALUES insert.
 */
import pg from "pg";
import { sql } from "drizzle-orm";
import { createDb, createPool, runMigrations, vods, withTransaction, type Db } from "@vod/db";
import { createCatalog, createKafka, createProducer, createTopics, type StreamSnapshot } from "@vod/kafka";
import { createLogger } from "@vod/log";
import { mergeSnapshots, readEnv, startWriter, upsertSnapshots, type SnapshotRow } from "@vod/writer";
import { benchEnv, ensureInfra } from "./env.ts";

await ensureInfra(["kafka", "postgres"]);

const log = createLogger({ service: "bench", level: "warn" });
const VODS = 50_000;
const SIGHTINGS = 4;
const BATCH = 5_000;
const T0 = Date.UTC(2025, 0, 6, 12);
const tag = `${process.pid}_${Date.now().toString(36)}`;

function snapshots(sweep: number, streamOffset = 0): StreamSnapshot[] {
  return Array.from({ length: VODS }, (_, i) => ({
    v: 1 as const,
    sweepId: `sweep-${sweep}`,
    observedAt: new Date(T0 + sweep * 300_000).toISOString(),
    streamId: String(40_000_000_000 + streamOffset + i),
    startTime: new Date(T0 - (i % 3_600) * 1_000).toISOString(),
    streamerId: String(1_000_000 + i),
    login: `streamer_${i}`,
    viewers: 10 + ((i * 7919 + sweep * 104_729) % 20_000),
    title: `Stream number ${i} with a title of ordinary length`,
    gameId: String(i % 500),
    gameName: `Game ${i % 500}`,
    language: i % 3 === 0 ? "de" : "en",
    mature: i % 11 === 0,
  }));
}

async function freshDb(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_writer_${tag}`;
  const admin = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(benchEnv.DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

async function tableSize(db: Db): Promise<{ rows: number; mb: number }> {
  const r = await db.execute<{ rows: number; bytes: string }>(
    sql`select count(*)::int as rows, pg_total_relation_size('vods')::text as bytes from vods`,
  );
  return { rows: r.rows[0]!.rows, mb: Math.round(Number(r.rows[0]!.bytes) / 1_048_576) };
}

/** The same upsert as a drizzle VALUES list; chunked, since 13 columns × 5,000 rows exceeds Postgres's 65,535 parameters. */
async function upsertWithValues(db: Db, rows: SnapshotRow[]): Promise<void> {
  await withTransaction(db, async (tx) => {
    for (let i = 0; i < rows.length; i += 4_000) {
      await tx
        .insert(vods)
        .values(
          rows.slice(i, i + 4_000).map((r) => ({
            streamId: Number(r.streamId),
            startTime: new Date(r.startTime),
            streamerId: Number(r.streamerId),
            login: r.login,
            title: r.title,
            gameId: r.gameId,
            gameName: r.gameName,
            language: r.language,
            mature: r.mature,
            startFieldsSeenAt: new Date(r.startFieldsSeenAt),
            maxViewers: r.maxViewers,
            firstSeen: new Date(r.firstSeen),
            lastSeen: new Date(r.lastSeen),
          })),
        )
        .onConflictDoUpdate({
          target: [vods.streamId, vods.startTime],
          set: {
            maxViewers: sql.raw(`greatest(vods.max_viewers, excluded.max_viewers)`),
            firstSeen: sql.raw(`least(vods.first_seen, excluded.first_seen)`),
            lastSeen: sql.raw(`greatest(vods.last_seen, excluded.last_seen)`),
            updatedAt: sql`now()`,
          },
          setWhere: sql.raw(
            `excluded.max_viewers > vods.max_viewers OR excluded.last_seen > vods.last_seen OR excluded.first_seen < vods.first_seen`,
          ),
        });
    }
  });
}

async function main() {
  const database = await freshDb();
  const pool = createPool({ url: database.url, max: 4 });
  const db = createDb(pool);
  await runMigrations(db);
  try {
    // 1. One batch written both ways, against a table that already holds VODS rows (updates) and into new keys (inserts).
    const seed = mergeSnapshots(snapshots(0, 10_000_000));
    await withTransaction(db, (tx) => upsertSnapshots(tx, seed));
    const methods: Record<string, (rows: SnapshotRow[]) => Promise<unknown>> = {
      unnest: (rows) => withTransaction(db, (tx) => upsertSnapshots(tx, rows)),
      "drizzle VALUES": (rows) => upsertWithValues(db, rows),
    };
    const micro: string[] = [];
    for (const [name, write] of Object.entries(methods)) {
      for (const kind of ["insert", "update"] as const) {
        const times: number[] = [];
        for (let round = 0; round < 5; round++) {
          const base =
            kind === "insert" ? 20_000_000 + round * 100_000 + (name === "unnest" ? 0 : 1_000_000) : 10_000_000;
          const rows = mergeSnapshots(snapshots(round + 1, base).slice(0, BATCH));
          const t = performance.now();
          await write(rows);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        micro.push(
          `| ${name} | ${kind} | ${BATCH} | ${times[2]!.toFixed(0)} ms | ${Math.round(BATCH / (times[2]! / 1000)).toLocaleString("en")} |`,
        );
      }
    }

    // 2. End to end: the writer consumes SIGHTINGS sweeps of VODS streams from Kafka.
    const before = await tableSize(db);
    const prefix = `bench-${tag}.`;
    const catalog = createCatalog(prefix);
    const kafka = createKafka({ brokers: benchEnv.KAFKA_BROKERS, clientId: "bench", log });
    await createTopics(kafka, [catalog.streamSnapshots, catalog.vodFetchResults], log);
    const producer = await createProducer(kafka, log);
    for (let s = 0; s < SIGHTINGS; s++) {
      const all = snapshots(s + 10);
      for (let i = 0; i < all.length; i += 10_000)
        await producer.send(catalog.streamSnapshots, all.slice(i, i + 10_000));
    }
    const total = VODS * SIGHTINGS;
    let handled = 0;
    let batches = 0;
    let fetches = 0;
    let firstAt = 0;
    let lastAt = 0;
    const env = readEnv({
      KAFKA_BROKERS: benchEnv.KAFKA_BROKERS.join(","),
      DATABASE_URL: database.url,
      TOPIC_PREFIX: prefix,
      GROUP_ID: `bench-writer-${tag}`,
      BATCH_MAX_MESSAGES: String(BATCH),
      LOG_LEVEL: "warn",
    });
    const started = performance.now();
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const writer = await startWriter(env, { kafka, producer, db, log });
    // Counted from the first committed batch, so group join time is not part of the rate.
    const onBatch = (size: number) => {
      if (firstAt === 0) firstAt = performance.now();
      handled += size;
      fetches++;
      batches += Math.ceil(size / BATCH);
      lastAt = performance.now();
      if (handled >= total) done();
    };
    writer.consumer.on(writer.consumer.events.END_BATCH_PROCESS, (e) => onBatch(e.payload.batchSize));
    await finished;
    await writer.stop();
    await producer.disconnect();
    const after = await tableSize(db);
    const seconds = (lastAt - started) / 1000;
    console.log(`
## Writer (npm run bench → bench/writer.ts)

End to end, Kafka → writer → Postgres: ${total.toLocaleString("en")} snapshots (${SIGHTINGS} sweeps of ${VODS.toLocaleString("en")} live streams, 6 partitions),
BATCH_MAX_MESSAGES=${BATCH} (writer defaults: 512 kB min fetch, 4 MB per partition, 250 ms wait): ${fetches} fetches split into
${batches} upsert transactions of ${Math.round(handled / batches)} messages on average,
table before: ${before.rows.toLocaleString("en")} rows / ${before.mb} MB, after: ${after.rows.toLocaleString("en")} rows / ${after.mb} MB.

- ${Math.round(total / seconds).toLocaleString("en")} snapshots/s from writer start (${seconds.toFixed(1)} s, group join included)
- ${Math.round(total / ((lastAt - firstAt) / 1000 || 1)).toLocaleString("en")} snapshots/s between the first and the last batch

One transaction of ${BATCH} merged VODs (median of 5):

| method | rows | batch | time | rows/s |
|---|---|---|---|---|
${micro.join("\n")}
`);
  } finally {
    await pool.end();
    await database.drop();
  }
}

await main();
