import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { createDb, createPool, runMigrations } from "@vod/db";
import { createCatalog, createKafka, createTopics } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { nodeArgs, waitForHttp } from "./launch.ts";
import { DEMO_RESTART, restartSummary, supervise, type Supervised } from "./supervise.ts";

export interface DemoOptions {
  root: string;
  log: Logger;
  /** Stop by itself after this long (real ms); otherwise run until Ctrl-C. */
  forMs?: number;
  simPort: number;
  /** Where the API and its web page listen. */
  apiPort: number;
  /** Simulated clock speed: 60 runs one simulated hour (one mute run) per real minute. */
  speed: number;
  streams: number;
  seed: number;
  /**
   * Instances of each service that may run several in one group: writers and delays (the delay's
   * state is partitioned). The live-poller is one (the single producer of sweeps).
   */
  instances?: number;
  print: (line: string) => void;
  /** Environment handed to the processes it starts. */
  env: Record<string, string | undefined>;
}

export interface DemoResult {
  vods: number;
  found: number;
  notFound: number;
  failed: number;
}

const SERVICES = ["writer", "hls-fetcher", "delay", "live-poller"] as const;
/** Ops ports of the first instance; instance i listens 10·i above. */
const OPS_PORTS: Record<(typeof SERVICES)[number], number> = {
  writer: 9104,
  "hls-fetcher": 9103,
  delay: 9102,
  "live-poller": 9101,
};
/** The API's /healthz and /metrics. */
const API_OPS_PORT = 9105;

/**
 * How many of each service `--instances n` runs. One live-poller whatever n: sweeps have one
 * producer. The hls-fetchers share one CDN budget in Redis, so n of them stay at its rate together.
 */
export function instancesOf(n: number): Record<(typeof SERVICES)[number], number> {
  return { writer: n, "hls-fetcher": n, delay: n, "live-poller": 1 };
}

function readInfraEnv(root: string): {
  brokers: string;
  databaseUrl: string;
  apiDatabaseUrl: string | undefined;
  redisUrl: string;
} {
  const file = join(root, ".infra/env");
  // Infra another checkout started has no env file here; it answers on the default ports.
  const vars = Object.fromEntries(
    (existsSync(file) ? readFileSync(file, "utf8") : "")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
  );
  return {
    brokers: vars.KAFKA_BROKERS ?? "127.0.0.1:19092",
    databaseUrl: vars.DATABASE_URL ?? "postgres://vod:vod@127.0.0.1:15432/vod",
    apiDatabaseUrl: vars.API_DATABASE_URL,
    redisUrl: vars.REDIS_URL ?? "redis://127.0.0.1:16379",
  };
}

function infra(root: string, script: "up" | "down" | "status"): boolean {
  const r = spawnSync("bash", [join(root, `infra/${script}.sh`)], {
    stdio: script === "status" ? "ignore" : "inherit",
  });
  return r.status === 0;
}

/** `url` pointed at another database of the same server. */
function onDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database for each demo run, so the counts shown are this run's alone. */
async function freshDemoDatabase(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query("DROP DATABASE IF EXISTS vod_demo WITH (FORCE)");
    await client.query("CREATE DATABASE vod_demo");
  } finally {
    await client.end();
  }
  return onDatabase(adminUrl, "vod_demo");
}

/**
 * The whole system against the simulator on this machine: local Kafka and PostgreSQL, migrations,
 * topics, the simulator at `speed`, the four services and the API, with a progress line until stopped.
 * Everything it started, it stops (the infra too, when it was not running before).
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const children: Supervised[] = [];
  const wasUp = infra(o.root, "status");
  if (!wasUp && !infra(o.root, "up")) throw new Error("infra/up.sh failed; see .infra/ logs");
  const logDir = join(o.root, ".infra/demo");
  mkdirSync(logDir, { recursive: true });
  // Infra started before the API had a login of its own: up again sets its password and writes its URL.
  if (wasUp && readInfraEnv(o.root).apiDatabaseUrl === undefined && !infra(o.root, "up"))
    throw new Error("infra/up.sh failed; see .infra/ logs");
  const { brokers, databaseUrl: adminUrl, apiDatabaseUrl, redisUrl } = readInfraEnv(o.root);
  if (apiDatabaseUrl === undefined) throw new Error(".infra/env has no API_DATABASE_URL; run npm run infra:up");
  const databaseUrl = await freshDemoDatabase(adminUrl);
  const pool = createPool({ url: databaseUrl, max: 2, applicationName: "vods-demo" });

  // A process that dies is started again after a backoff, as compose's restart policy would; its restarts
  // append to the same log.
  const startChild = (name: string, script: string, args: string[], env: Record<string, string>) => {
    const out = createWriteStream(join(logDir, `${name}.log`));
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, nodeArgs(o.root, script, args), {
        cwd: o.root,
        env: { ...o.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group: Ctrl-C reaches the demo alone, which then stops each child in order.
        detached: true,
      });
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      return child;
    };
    children.push(
      supervise(name, start, DEMO_RESTART, (d) =>
        o.print(
          `${name} exited (${d.status}); restart ${d.restart} in ${d.delayMs / 1000}s; its log: .infra/demo/${name}.log`,
        ),
      ),
    );
  };

  const stopAll = async () => {
    // Upstream first, so downstream stages can drain what was handed to them.
    for (const s of [...children].reverse()) {
      if (await s.stop()) o.print(`${s.name} did not stop in 15 s; killed it`);
    }
    await pool.end().catch(() => undefined);
    if (!wasUp) infra(o.root, "down");
  };

  try {
    const db = createDb(pool);
    await runMigrations(db);
    const kafka = createKafka({ brokers: brokers.split(","), clientId: "vods-demo", log: o.log });
    // A topic prefix per run: a new simulated world must not meet the previous run's state.
    const prefix = `demo.${Date.now()}.`;
    await createTopics(kafka, Object.values(createCatalog(prefix)), o.log);

    const simUrl = `http://127.0.0.1:${o.simPort}`;
    startChild(
      "twitch-sim",
      "packages/twitch-sim/src/main.ts",
      [
        "--port",
        String(o.simPort),
        "--seed",
        String(o.seed),
        "--streams",
        String(o.streams),
        "--speed",
        String(o.speed),
        "--world",
        "realistic",
        "--log-level",
        "warn",
      ],
      {},
    );
    await waitForHttp(`${simUrl}/healthz`, 60_000);
    const clock = (await (await fetch(`${simUrl}/admin/clock`)).json()) as { now: string };
    const world = (await (await fetch(`${simUrl}/admin/world`)).json()) as { configuredDomains: string[] };
    const common = {
      KAFKA_BROKERS: brokers,
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: "info",
      CLOCK_SPEED: String(o.speed),
      CLOCK_ORIGIN: clock.now,
      CLOCK_REAL_ORIGIN: new Date().toISOString(),
    };
    const perService: Record<(typeof SERVICES)[number], Record<string, string>> = {
      writer: {},
      // Configured like production: the realistic world also serves VODs on a domain this list lacks, learned from GQL.
      "hls-fetcher": {
        CDN_URL_TEMPLATE: `${simUrl}/cdn/{domain}/`,
        GQL_ENDPOINT: `${simUrl}/gql`,
        CDN_DOMAINS: world.configuredDomains.join(","),
        // One fetcher keeps its budget in process; several share one in Redis.
        ...((o.instances ?? 1) > 1 ? { REDIS_URL: redisUrl } : {}),
      },
      delay: {},
      "live-poller": { GQL_ENDPOINT: `${simUrl}/gql` },
    };
    const counts = instancesOf(o.instances ?? 1);
    for (const name of SERVICES) {
      for (let i = 0; i < counts[name]; i++) {
        const label = counts[name] > 1 ? `${name}-${i + 1}` : name;
        startChild(label, `services/${name}/src/main.ts`, [], {
          ...common,
          ...perService[name],
          OPS_PORT: String(OPS_PORTS[name] + 10 * i),
        });
      }
    }
    if ((o.instances ?? 1) > 1) {
      o.print(
        `instances: ${SERVICES.map((s) => `${counts[s]} ${s}`).join(", ")} (the fetchers share one CDN budget in Redis; one live-poller: sweeps have one producer)`,
      );
    }
    const apiUrl = `http://127.0.0.1:${o.apiPort}`;
    startChild("api", "services/api/src/main.ts", [], {
      // Its own login, read-only, as in compose.
      DATABASE_URL: onDatabase(apiDatabaseUrl, "vod_demo"),
      PORT: String(o.apiPort),
      OPS_PORT: String(API_OPS_PORT),
      LOG_LEVEL: "info",
      CLOCK_SPEED: common.CLOCK_SPEED,
      CLOCK_ORIGIN: common.CLOCK_ORIGIN,
      CLOCK_REAL_ORIGIN: common.CLOCK_REAL_ORIGIN,
    });
    await waitForHttp(`http://127.0.0.1:${API_OPS_PORT}/healthz`, 60_000);
    o.print(`archive: open ${apiUrl}/ (web page), ${apiUrl}/v1/vods (API), ${apiUrl}/openapi.json`);
    o.print(
      `demo running: simulator ${simUrl} at ${o.speed}x (one mute run per ${60 / o.speed} real min), topics ${prefix}*, database vod_demo; logs in .infra/demo/`,
    );
    o.print("Ctrl-C stops everything.");

    let interrupted = false;
    const onSignal = () => void (interrupted = true);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const started = Date.now();
    let last: DemoResult = { vods: 0, found: 0, notFound: 0, failed: 0 };
    let mpvShown = false;
    while (!interrupted && (o.forMs === undefined || Date.now() - started < o.forMs)) {
      await new Promise((r) => setTimeout(r, 5_000));
      last = await progress(pool);
      const sim = (await fetch(`${simUrl}/admin/clock`)
        .then((r) => r.json())
        .catch(() => ({ now: "?" }))) as { now: string };
      o.print(
        `[${Math.round((Date.now() - started) / 1000)}s, simulated ${sim.now}] VODs seen ${last.vods}, live or waiting ${last.vods - last.found - last.notFound - last.failed}, archived ${last.found}, not found ${last.notFound}, failed ${last.failed}${restarted(children)}`,
      );
      if (!mpvShown && last.found > 0) {
        const first = await firstArchived(pool);
        if (first) {
          o.print(`first VOD archived; play it with: mpv "${apiUrl}${first}"`);
          mpvShown = true;
        }
      }
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    o.print("stopping…");
    return last;
  } finally {
    await stopAll();
  }
}

/** The progress line's tail naming the processes that died and were restarted (compose's `ps` shows as much). */
function restarted(children: readonly Supervised[]): string {
  const summary = restartSummary(children);
  return summary ? `; restarted: ${summary}` : "";
}

/** The playlist path of the first archived VOD, as the API serves it. */
async function firstArchived(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ stream_id: string; unix: string }>(
    "select stream_id, floor(extract(epoch from start_time))::bigint::text as unix from vods where outcome = 'found' order by fetched_at, id limit 1",
  );
  const r = rows[0];
  return r ? `/m3u8/${r.stream_id}/${r.unix}/index.m3u8` : undefined;
}

async function progress(pool: pg.Pool): Promise<DemoResult> {
  const { rows } = await pool.query<{ vods: number; found: number; not_found: number; failed: number }>(`
    select count(*)::int as vods,
           count(*) filter (where outcome = 'found')::int as found,
           count(*) filter (where outcome = 'not_found')::int as not_found,
           count(*) filter (where outcome = 'failed')::int as failed
    from vods`);
  const r = rows[0]!;
  return { vods: r.vods, found: r.found, notFound: r.not_found, failed: r.failed };
}
