/**
 * API benchmark (`npm run bench:api`): the API as its own process over 1,000,000 VODs, loaded by
 * autocannon at fixed rates (latencies corrected for coordinated omission): the list routes
 * (compatible and v1, a mix), the playlist route, then five times the list rate it sustained, to
 * see it shed. RSS of the API process is sampled throughout. Last line: one JSON object.
 *
 *   npm run bench:api -- [--vods 1000000] [--list-rate 5000] [--playlist-rate 3000] [--duration 15] [--fresh]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import pg from "pg";
import { nodeArgs } from "@vod/cli";
import { createDb, createPool, runMigrations } from "@vod/db";
import { SEED_VODS_SQL } from "../services/api/src/seed.ts";
import { benchEnv, childEnv } from "./env.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    vods: { type: "string", default: "1000000" },
    "list-rate": { type: "string", default: "5000" },
    "playlist-rate": { type: "string", default: "3000" },
    duration: { type: "string", default: "15" },
    fresh: { type: "boolean", default: false },
  },
});
const VODS = Number(args.vods);
const LIST_RATE = Number(args["list-rate"]);
const PLAYLIST_RATE = Number(args["playlist-rate"]);
const DURATION = Number(args.duration);
/** VODs given a real-sized playlist (a 2-hour VOD): all 800,000 archived ones would take 5 GB of disk for the same reads. */
const WITH_PLAYLIST = 20_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

async function database(): Promise<string> {
  const name = `bench_api_v2_${VODS}`;
  const admin = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
  await admin.connect();
  const exists = (await admin.query("select 1 from pg_database where datname = $1", [name])).rowCount === 1;
  if (args.fresh && exists) await admin.query(`drop database ${name} with (force)`);
  if (args.fresh || !exists) await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(benchEnv.DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = createPool({ url: url.toString(), max: 2, statementTimeoutMs: 3_600_000 });
  try {
    await runMigrations(createDb(pool));
    const have = (await pool.query("select count(*)::int as n from vods")).rows[0].n as number;
    if (have !== VODS) {
      const t0 = Date.now();
      await pool.query("truncate vods");
      await pool.query(SEED_VODS_SQL, [VODS, null]);
      await pool.query(
        `update vods set playlist_gz = $1 where id in (select id from vods where outcome = 'found' order by (id * 2654435761) % 1000003 limit ${WITH_PLAYLIST})`,
        [playlistOf2Hours()],
      );
      await pool.query("vacuum analyze vods");
      console.error(`seeded ${VODS.toLocaleString("en")} VODs in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    await pool.end();
  }
  return url.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Latencies by status class, corrected as autocannon corrects its own (a late answer also delays the ones that should have followed). */
class Latencies {
  private readonly samples = new Map<string, number[]>();
  constructor(private readonly intervalMs: number) {}
  add(kind: string, ms: number) {
    const list = this.samples.get(kind) ?? [];
    list.push(ms);
    for (let missed = ms - this.intervalMs; missed > 0; missed -= this.intervalMs) list.push(missed);
    this.samples.set(kind, list);
    // As measured, for comparison: the correction also charges the server for a load generator that fell behind.
    const raw = this.samples.get(`${kind} raw`) ?? [];
    raw.push(ms);
    this.samples.set(`${kind} raw`, raw);
  }
  p99(kind: string): number | null {
    const list = this.samples.get(kind);
    if (!list?.length) return null;
    list.sort((a, b) => a - b);
    return Math.round(list[Math.min(list.length - 1, Math.floor(list.length * 0.99))]! * 10) / 10;
  }
}

interface Phase {
  name: string;
  rps: number;
  p99: number;
  ok: number;
  shed: number;
  other5xx: number;
  errors: number;
  timeouts: number;
  byStatus: Latencies;
  sent: number;
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let apiPid = 0;
/** Rejects if the API process ends while it is being measured: a crash must fail the benchmark, not hang it. */
let apiExited: Promise<never> = new Promise(() => undefined);

async function run(
  name: string,
  url: string,
  requests: { path: string; headers?: Record<string, string> }[],
  rate: number,
  seconds: number,
  connections: number,
): Promise<Phase> {
  const byStatus = new Latencies((connections / rate) * 1000);
  const counts = { ok: 0, shed: 0, other5xx: 0 };
  let finish: (r: autocannon.Result) => void = () => undefined;
  let fail: (e: unknown) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const cpu0 = cpuSeconds(apiPid);
  const instance = autocannon(
    { url, connections, overallRate: rate, duration: seconds, requests, timeout: 10 },
    (err, r) => (err ? fail(err) : finish(r)),
  );
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status === 503) {
      counts.shed++;
      byStatus.add("503", ms);
    } else if (status >= 500) {
      counts.other5xx++;
    } else if (status < 400) {
      counts.ok++;
      byStatus.add("ok", ms);
    }
  });
  const result = await Promise.race([done, apiExited]);
  const cpuMsPerRequest = ((cpuSeconds(apiPid) - cpu0) * 1000) / Math.max(1, result.requests.total);
  const phase = {
    name,
    rps: Math.round(counts.ok / seconds),
    p99: result.latency.p99,
    ok: counts.ok,
    shed: counts.shed,
    other5xx: counts.other5xx,
    errors: result.errors,
    timeouts: result.timeouts,
    byStatus,
    sent: result.requests.sent,
  };
  console.error(
    `${name}: offered ${rate}/s for ${seconds} s over ${connections} connections: sent ${result.requests.sent}, 2xx/3xx ${counts.ok} (${phase.rps}/s), 503 ${counts.shed}, other 5xx ${counts.other5xx}, errors ${result.errors}, timeouts ${result.timeouts}; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms (corrected p99: 2xx ${byStatus.p99("ok")} ms, 503 ${byStatus.p99("503")} ms; as measured: 2xx ${byStatus.p99("ok raw")} ms, 503 ${byStatus.p99("503 raw")} ms); 4xx ${result.non2xx - counts.shed - counts.other5xx}; API CPU ${cpuMsPerRequest.toFixed(3)} ms per request`,
  );
  return phase;
}

async function main() {
  const dbUrl = await database();
  const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
  const playlists = (
    await pool.query<{ stream_id: string; unix: number }>(
      `select stream_id, floor(extract(epoch from start_time))::bigint as unix from vods where playlist_gz is not null limit 2000`,
    )
  ).rows;
  const games = (
    await pool.query<{ game_id: string }>("select distinct game_id from vods where game_id is not null limit 300")
  ).rows.map((r) => r.game_id);
  await pool.end();

  const port = await freePort();
  const api = spawn(process.execPath, nodeArgs(root, "services/api/src/main.ts"), {
    cwd: root,
    env: childEnv({ DATABASE_URL: dbUrl, PORT: String(port), LOG_LEVEL: "warn" }),
    stdio: ["ignore", "inherit", "inherit"],
  });
  apiPid = api.pid!;
  let stopping = false;
  apiExited = new Promise<never>((_resolve, reject) =>
    api.once(
      "exit",
      (code, signal) => !stopping && reject(new Error(`the API exited (${signal ?? code}) during the benchmark`)),
    ),
  );
  apiExited.catch(() => undefined);
  let rssMax = 0;
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${api.pid}/status`, "utf8"))?.[1] ?? 0);
      rssMax = Math.max(rssMax, kb / 1024);
    } catch {
      // exited
    }
  }, 100);
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let waited = 0; ; waited += 100) {
      if (
        await fetch(`${base}/healthz`)
          .then((r) => r.ok)
          .catch(() => false)
      )
        break;
      if (waited > 60_000) throw new Error("the API did not start");
      await sleep(100);
    }
    // A second page of a v1 listing, to load the keyset path too.
    const first = (await (await fetch(`${base}/v1/vods?limit=50&outcome=found`)).json()) as { next: string };
    const langs = ["EN", "ES", "PT", "DE", "RU", "FR", "JA", "KO", "IT", "PL"];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const listPaths = Array.from({ length: 600 }, (_, i) => {
      const user = `user${rnd(5000)}`;
      switch (i % 10) {
        case 0:
          return `/channels/@${user}`;
        case 1:
          return `/all/${rnd(2) ? "public" : "private"}`;
        case 2:
          return `/language/@${langs[rnd(10)]}/all/public`;
        case 3:
          return `/category/@${games[rnd(games.length)]}/all/public`;
        case 4:
          return `/search/${user}`;
        case 5:
          return `/v1/vods?limit=50`;
        case 6:
          return `/v1/vods?login=${user}`;
        case 7:
          return `/v1/vods?gameId=${games[rnd(games.length)]}&outcome=found`;
        case 8:
          return `/v1/vods?language=${langs[rnd(10)]}&visibility=public`;
        default:
          return `/v1/vods?limit=50&outcome=found&cursor=${first.next}`;
      }
    }).map((path) => ({ path }));
    const playlistReqs = playlists.map((p) => ({
      path: `/m3u8/${p.stream_id}/${p.unix}/index.m3u8`,
      headers: { "accept-encoding": "gzip" },
    }));

    await run("warm-up", base, listPaths, Math.round(LIST_RATE / 2), 5, 50);
    const list = await run("list", base, listPaths, LIST_RATE, DURATION, 100);
    const playlist = await run("playlist", base, playlistReqs, PLAYLIST_RATE, DURATION, 100);
    await sleep(2_000);
    const overloadRate = Math.max(list.rps, 1) * 5;
    const overload = await run("overload", base, listPaths, overloadRate, DURATION, 400);
    const alive = await fetch(`${base}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    console.error(`after overload the API ${alive ? "is up and healthy" : "DID NOT ANSWER /healthz"}`);
    const errors = [list, playlist, overload].reduce((s, p) => s + p.other5xx, 0);
    const summary = {
      vodsInTable: VODS,
      listRps: list.rps,
      listP99Ms: list.p99,
      playlistRps: playlist.rps,
      playlistP99Ms: playlist.p99,
      overloadOfferedRps: Math.round(overload.sent / DURATION),
      overloadAcceptedP99Ms: overload.byStatus.p99("ok"),
      overloadRejectedP99Ms: overload.byStatus.p99("503"),
      errors5xxOtherThan503: errors,
      rssMbMax: Math.round(rssMax),
    };
    console.log(JSON.stringify(summary));
    if (!alive) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    stopping = true;
    if (api.exitCode === null && api.signalCode === null) {
      api.kill("SIGTERM");
      await new Promise((r) => api.once("exit", r));
    }
  }
}

await main();
