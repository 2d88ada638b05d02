import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { createDb, runMigrations } from "@vod/db";
import { createCatalog, createKafka, createTopics } from "@vod/kafka";
import type { Logger } from "@vod/log";

/** Where the local infra answers, and this run's database. */
export interface DemoInfra {
  /** The infra was running before the demo: the demo leaves it running. */
  wasUp: boolean;
  brokers: string;
  /** The API's own read-only login, on the server's default database. */
  apiDatabaseUrl: string;
  redisUrl: string;
  /** The fresh `vod_demo` database of this run. */
  databaseUrl: string;
}

/**
 * Local Kafka, PostgreSQL and Redis, started when they are not running (`stopInfra` stops them again
 * then), and a fresh database for this run.
 */
export async function startInfra(root: string): Promise<DemoInfra> {
  const wasUp = infra(root, "status");
  if (!wasUp && !infra(root, "up")) throw new Error("infra/up.sh failed; see .infra/ logs");
  // Infra started before the API had a login of its own: up again sets its password and writes its URL.
  if (wasUp && readInfraEnv(root).apiDatabaseUrl === undefined && !infra(root, "up"))
    throw new Error("infra/up.sh failed; see .infra/ logs");
  const { brokers, databaseUrl: adminUrl, apiDatabaseUrl, redisUrl } = readInfraEnv(root);
  if (apiDatabaseUrl === undefined) throw new Error(".infra/env has no API_DATABASE_URL; run npm run infra:up");
  const databaseUrl = await freshDemoDatabase(adminUrl);
  return { wasUp, brokers, apiDatabaseUrl, redisUrl, databaseUrl };
}

/** Stops the infra when the demo started it. */
export function stopInfra(root: string, started: Pick<DemoInfra, "wasUp">): void {
  if (!started.wasUp) infra(root, "down");
}

/** Migrates the run's database and creates its topics; returns the run's topic prefix. */
export async function prepareDemoData(pool: pg.Pool, brokers: string, log: Logger): Promise<string> {
  const db = createDb(pool);
  await runMigrations(db);
  const kafka = createKafka({ brokers: brokers.split(","), clientId: "vods-demo", log });
  // A topic prefix per run: a new simulated world must not meet the previous run's state.
  const prefix = `demo.${Date.now()}.`;
  await createTopics(kafka, Object.values(createCatalog(prefix)), log);
  return prefix;
}

/** `url` pointed at another database of the same server. */
export function onDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
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
