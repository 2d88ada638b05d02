/**
 * HOT share of the writer's sweep updates: live VODs upserted once, then once per sweep (max viewers
 * and last seen change), through the writer's own upsert in batches as it writes them, at several
 * fillfactors of `vods`. Reads pg_stat_user_tables (n_tup_upd, n_tup_hot_upd) and the index sizes.
 *   npm run bench:hot -- [--vods 50000] [--sweeps 12] [--fillfactors 100,70,50]
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { createDb, createPool, runMigrations, withTransaction } from "@vod/db";
import type { StreamSnapshot } from "@vod/kafka";
import { mergeSnapshots, upsertSnapshots } from "@vod/writer";
import { benchEnv, ensureInfra } from "./env.ts";

await ensureInfra(["postgres"]);

const { values: args } = parseArgs({
  options: {
    vods: { type: "string", default: "50000" },
    sweeps: { type: "string", default: "12" },
    fillfactors: { type: "string", default: "100,90,70,50" },
    batch: { type: "string", default: "5000" },
  },
});
const VODS = Number(args.vods);
const SWEEPS = Number(args.sweeps);
const BATCH = Number(args.batch);
const FILLFACTORS = args.fillfactors.split(",").map(Number);
const T0 = Date.UTC(2025, 0, 6, 12);
const tag = `${process.pid}_${Date.now().toString(36)}`;

function snapshots(sweep: number): StreamSnapshot[] {
  return Array.from({ length: VODS }, (_, i) => ({
    v: 1 as const,
    sweepId: `sweep-${sweep}`,
    observedAt: new Date(T0 + sweep * 300_000).toISOString(),
    streamId: String(40_000_000_000 + i),
    startTime: new Date(T0 - (i % 3_600) * 1_000).toISOString(),
    streamerId: String(1_000_000 + i),
    login: `streamer_${i}`,
    // Viewers move every sweep, so every row is updated every sweep (last seen alone would do it too).
    viewers: 10 + ((i * 7919 + sweep * 104_729) % 20_000) + sweep * 20_000,
    title: `Stream number ${i} with a title of ordinary length`,
    gameId: String(i % 500),
    gameName: `Game ${i % 500}`,
    language: i % 3 === 0 ? "de" : "en",
    mature: i % 11 === 0,
  }));
}

async function admin(query: string): Promise<void> {
  const c = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
  await c.connect();
  try {
    await c.query(query);
  } finally {
    await c.end();
  }
}

export interface HotFigures {
  fillfactor: number;
  updates: number;
  hot: number;
  hotShare: number;
  indexMb: number;
  tableMb: number;
  secondsPerSweep: number;
}

/** One run at `fillfactor` in a database of its own; the figures of the sweeps after the first insert. */
export async function measure(fillfactor: number): Promise<HotFigures> {
  const name = `bench_hot_${fillfactor}_${tag}`;
  await admin(`create database ${name}`);
  const url = new URL(benchEnv.DATABASE_URL);
  url.pathname = `/${name}`;
  // One connection: its statistics are flushed on demand before they are read.
  const pool = createPool({ url: url.toString(), max: 2, statementTimeoutMs: 600_000 });
  const db = createDb(pool);
  try {
    await runMigrations(db);
    await pool.query(`alter table vods set (fillfactor = ${fillfactor})`);
    const write = async (sweep: number) => {
      const rows = mergeSnapshots(snapshots(sweep), 10);
      for (let i = 0; i < rows.length; i += BATCH)
        await withTransaction(db, (tx) => upsertSnapshots(tx, rows.slice(i, i + BATCH)));
    };
    await write(0);
    const stat = async () => {
      const c = await pool.connect();
      try {
        await c.query("select pg_stat_force_next_flush()");
        await new Promise((r) => setTimeout(r, 1_100));
        const r = await c.query<{ upd: string; hot: string }>(
          "select n_tup_upd::text as upd, n_tup_hot_upd::text as hot from pg_stat_user_tables where relname = 'vods'",
        );
        return { upd: Number(r.rows[0]!.upd), hot: Number(r.rows[0]!.hot) };
      } finally {
        c.release();
      }
    };
    const before = await stat();
    const started = performance.now();
    for (let s = 1; s <= SWEEPS; s++) await write(s);
    const seconds = (performance.now() - started) / 1000;
    const after = await stat();
    const size = await pool.query<{ idx: string; tbl: string }>(
      "select pg_indexes_size('vods')::text as idx, pg_table_size('vods')::text as tbl",
    );
    const updates = after.upd - before.upd;
    const hot = after.hot - before.hot;
    return {
      fillfactor,
      updates,
      hot,
      hotShare: Math.round((hot / Math.max(1, updates)) * 1000) / 1000,
      indexMb: Math.round((Number(size.rows[0]!.idx) / 1_048_576) * 10) / 10,
      tableMb: Math.round((Number(size.rows[0]!.tbl) / 1_048_576) * 10) / 10,
      secondsPerSweep: Math.round((seconds / SWEEPS) * 100) / 100,
    };
  } finally {
    await pool.end();
    await admin(`drop database if exists ${name} with (force)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs: HotFigures[] = [];
  console.log(`${VODS} live VODs, ${SWEEPS} sweeps, batches of ${BATCH} (the writer's default)`);
  for (const ff of FILLFACTORS) {
    const f = await measure(ff);
    runs.push(f);
    console.log(
      `fillfactor ${ff}: ${f.updates} updates, ${f.hot} HOT (${(f.hotShare * 100).toFixed(1)}%), indexes ${f.indexMb} MB, table ${f.tableMb} MB, ${f.secondsPerSweep} s a sweep`,
    );
  }
  console.log(JSON.stringify({ bench: "hot", vods: VODS, sweeps: SWEEPS, batch: BATCH, runs }));
}
