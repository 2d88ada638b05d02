/**
 * API benchmark (`npm run bench:api`): the API as its own process over 1,000,000 VODs, pinned to core 1,
 * loaded by Debian's `wrk` pinned to core 0 (PostgreSQL shares both cores). Phases: shared answers
 * (list routes the 1-second cache serves), playlists, requests that each need a query (what the API
 * sustains), then five times that rate offered, then a flood of distinct URLs. RSS of the API
 * is sampled every 100 ms throughout. Last line: one JSON object.
 *
 *   npm run bench:api -- [--vods 1000000] [--duration 15] [--overload-connections 400] [--flood-urls 200000]
 *                        [--api-env MAX_IN_FLIGHT=0 ...] [--fresh]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchDatabase } from "./api/seed.ts";
import { cpuSeconds, startApi, type ApiProcess } from "./api/server.ts";
import { writeUrlFiles } from "./api/urls.ts";
import { runWrk, type WrkResult, type WrkRun } from "./api/wrk.ts";
import { ensureInfra } from "./env.ts";

await ensureInfra(["postgres"]);

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    vods: { type: "string", default: "1000000" },
    duration: { type: "string", default: "15" },
    "overload-connections": { type: "string", default: "400" },
    "flood-urls": { type: "string", default: "200000" },
    /** Extra environment for the API (KEY=VALUE), to compare settings. */
    "api-env": { type: "string", multiple: true, default: [] },
    fresh: { type: "boolean", default: false },
  },
});
const DURATION = Number(args.duration);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Phase extends WrkResult {
  okRps: number;
  sentRps: number;
  other5xx: number;
  rssMb: number;
}

async function phase(api: ApiProcess, dir: string, run: WrkRun): Promise<Phase> {
  api.takePhaseRss();
  const cpu0 = cpuSeconds(api.pid);
  const r = await Promise.race([runWrk(run, dir), api.exited]);
  const cpuMs = ((cpuSeconds(api.pid) - cpu0) * 1000) / Math.max(1, r.answered);
  const count = (pred: (s: number) => boolean) =>
    Object.entries(r.byStatus).reduce((n, [s, c]) => n + (pred(Number(s)) ? c : 0), 0);
  const p: Phase = {
    ...r,
    okRps: Math.round(count((s) => s < 400) / r.seconds),
    sentRps: Math.round(r.sent / r.seconds),
    other5xx: count((s) => s >= 500 && s !== 503),
    rssMb: Math.round(api.takePhaseRss()),
  };
  const e = r.socketErrors;
  console.error(
    `${r.name}: ${run.connections} connections${run.delayMs ? `, ${run.delayMs.toFixed(1)} ms between requests on each` : ""}, ${r.seconds.toFixed(1)} s: sent ${r.sent} (${p.sentRps}/s), answered ${r.answered}, 2xx/3xx ${p.okRps}/s; by status ${JSON.stringify(r.byStatus)}; p50 ${r.p50} ms, p99 ${r.p99} ms (2xx/3xx ${r.p99Ok} ms, 503 ${r.p99Refused} ms, other ${r.p99Other} ms); socket errors connect ${e.connect} read ${e.read} write ${e.write} timeout ${e.timeout}; API CPU ${cpuMs.toFixed(3)} ms per answer; RSS max ${p.rssMb} MB`,
  );
  await sleep(2_000);
  return p;
}

/**
 * wrk is closed-loop: each connection sends one request per (pause + latency), so a pause between requests
 * on many connections offers a rate. If wrk sent less than asked, the phase runs again (at most twice)
 * with the pause shortened by the latency seen, and more connections when no pause is left to shorten.
 */
async function overload(api: ApiProcess, dir: string, file: string, target: number): Promise<Phase> {
  let connections = Number(args["overload-connections"]);
  let delayMs = Math.max(1, (connections * 1000) / target);
  let best: Phase | undefined;
  for (let attempt = 0; ; attempt++) {
    const p = await phase(api, dir, {
      name: "overload",
      url: api.base,
      connections,
      seconds: DURATION,
      pathsFile: file,
      delayMs,
    });
    // The attempt that came closest to the rate asked is reported: more connections can send less.
    if (!best || p.sentRps > best.sentRps) best = p;
    if (p.sentRps >= target || attempt === 2) return best;
    const latencyMs = (connections * 1000) / Math.max(1, p.sentRps) - delayMs;
    delayMs = (connections * 1000) / target - latencyMs * 1.2;
    if (delayMs < 1) {
      connections = Math.min(2_000, Math.ceil((target * (1 + latencyMs * 1.2)) / 1000));
      delayMs = Math.max(1, (connections * 1000) / target - latencyMs * 1.2);
    }
    console.error(
      `overload: offered ${p.sentRps}/s of ${target}/s; again over ${connections} connections with ${delayMs.toFixed(1)} ms pauses`,
    );
  }
}

async function main() {
  execFileSync("bash", ["-c", "source infra/lib.sh && ensure_bench_tools"], { cwd: root, stdio: "inherit" });
  const vods = Number(args.vods);
  const dbUrl = await benchDatabase(vods, args.fresh);
  console.error(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (1, 5, 15 min)`,
  );
  const dir = mkdtempSync(join(tmpdir(), "bench-api-"));
  const extra = Object.fromEntries(args["api-env"].map((kv) => [kv.split("=")[0]!, kv.split("=").slice(1).join("=")]));
  // Segment checks go through Kafka to the fetchers, which a read benchmark does not run: off, unless --api-env sets them.
  const api = await startApi(root, { KAFKA_BROKERS: "", ...extra, DATABASE_URL: dbUrl });
  try {
    const files = await writeUrlFiles(dbUrl, api.base, dir);
    console.error(
      `API up (pid ${api.pid}, core 1, env ${JSON.stringify(extra)}); ${files.perQueryCount} per-query URLs; wrk on core 0`,
    );
    const base = { url: api.base, seconds: DURATION };
    await phase(api, dir, { ...base, name: "warm-up", connections: 16, seconds: 5, pathsFile: files.shared });
    const list = await phase(api, dir, { ...base, name: "list", connections: 64, pathsFile: files.shared });
    const playlist = await phase(api, dir, {
      ...base,
      name: "playlist",
      connections: 64,
      pathsFile: files.playlists,
      headers: { "accept-encoding": "gzip" },
    });
    // As many connections as the pool holds plus its wait queue: the most it serves without refusing.
    const perQuery = await phase(api, dir, { ...base, name: "per-query", connections: 32, pathsFile: files.perQuery });
    const over = await overload(api, dir, files.perQuery, 5 * Math.max(1, perQuery.okRps));
    const floodUrls = Number(args["flood-urls"]);
    const flood = await phase(api, dir, {
      ...base,
      name: "flood",
      connections: 64,
      seconds: 600,
      flood: true,
      answersPerThread: Math.ceil(floodUrls / 64),
    });
    const alive = await api.healthy();
    console.error(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} (1, 5, 15 min)`,
    );
    console.error(`after the flood the API ${alive ? "is up and healthy" : "DID NOT ANSWER /healthz"}`);
    const phases = [list, playlist, perQuery, over, flood];
    console.log(
      JSON.stringify({
        vodsInTable: vods,
        listRps: list.okRps,
        listP99Ms: list.p99,
        playlistRps: playlist.okRps,
        playlistP99Ms: playlist.p99,
        perQueryRps: perQuery.okRps,
        overloadOfferedRps: over.sentRps,
        overloadAcceptedP99Ms: over.p99Ok,
        overloadRejectedP99Ms: over.p99Refused,
        errors5xxOtherThan503: phases.reduce((n, p) => n + p.other5xx, 0),
        rssMbMax: Math.round(api.rssMax()),
        floodUrls: flood.answered,
        floodRssMbMax: flood.rssMb,
      }),
    );
    if (!alive) process.exitCode = 1;
  } finally {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
