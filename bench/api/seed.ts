/** The benchmark's database: seeded once per size and reused by later runs (seeding 1,000,000 VODs takes minutes). */
import { gzipSync } from "node:zlib";
import pg from "pg";
import { createDb, createPool, runMigrations } from "@vod/db";
import { SEED_VODS_SQL } from "../../services/api/src/seed.ts";
import { benchEnv } from "../env.ts";

/** VODs given a real-sized playlist (a 2-hour VOD): all 800,000 archived ones would take 5 GB of disk for the same reads. */
const WITH_PLAYLIST = 20_000;

function playlistOf2Hours(): Buffer {
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    "#EXT-X-TARGETDURATION:10",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXT-X-TWITCH-TOTAL-SECS:7200.000",
  ];
  for (let i = 0; i < 720; i++)
    lines.push(
      "#EXTINF:10.000,",
      `https://d2nvs31859zcd8.cloudfront.net/4d5ab1c29f3e7a8b6c01_somestreamer_40000000001_1764000000/chunked/${i}.ts`,
    );
  lines.push("#EXT-X-ENDLIST", "");
  return gzipSync(lines.join("\n"));
}

/** Returns the URL of a database holding `vods` VODs (created and seeded when missing or of another size). */
export async function benchDatabase(vods: number, fresh: boolean): Promise<string> {
  const name = `bench_api_v2_${vods}`;
  const admin = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
  await admin.connect();
  const exists = (await admin.query("select 1 from pg_database where datname = $1", [name])).rowCount === 1;
  if (fresh && exists) await admin.query(`drop database ${name} with (force)`);
  if (fresh || !exists) await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(benchEnv.DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = createPool({ url: url.toString(), max: 2, statementTimeoutMs: 3_600_000 });
  try {
    await runMigrations(createDb(pool));
    const have = (await pool.query("select count(*)::int as n from vods")).rows[0].n as number;
    if (have !== vods) {
      const t0 = Date.now();
      await pool.query("truncate vods");
      await pool.query(SEED_VODS_SQL, [vods, null]);
      await pool.query(
        `update vods set playlist_gz = $1 where id in (select id from vods where outcome = 'found' order by (id * 2654435761) % 1000003 limit ${WITH_PLAYLIST})`,
        [playlistOf2Hours()],
      );
      await pool.query("vacuum analyze vods");
      console.error(`seeded ${vods.toLocaleString("en")} VODs in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    await pool.end();
  }
  return url.toString();
}
