import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { testEnv } from "./env.ts";

const run = promisify(execFile);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface InfraEndpoints {
  kafkaBrokers: string[];
  databaseUrl: string;
  /** The API's read-only login (vod_api) on the same server; absent until `infra/up.sh` has set its password. */
  apiDatabaseUrl?: string;
  redisUrl: string;
}

const DEFAULT_REDIS_URL = "redis://127.0.0.1:16379";

/** Reads the endpoints that `infra/up.sh` wrote to `.infra/env`. */
export function readInfraEnv(): InfraEndpoints {
  const file = join(repoRoot, ".infra/env");
  // Infra another checkout started answers on the same ports, without this checkout's env file.
  if (!existsSync(file)) {
    return {
      kafkaBrokers: [`127.0.0.1:${testEnv.KAFKA_PORT}`],
      databaseUrl: `postgres://vod:vod@127.0.0.1:${testEnv.PGPORT}/vod`,
      redisUrl: DEFAULT_REDIS_URL,
    };
  }
  const vars = Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#") && line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  if (!vars.KAFKA_BROKERS || !vars.DATABASE_URL) throw new Error(`${file} lacks KAFKA_BROKERS or DATABASE_URL`);
  return {
    kafkaBrokers: vars.KAFKA_BROKERS.split(","),
    databaseUrl: vars.DATABASE_URL,
    ...(vars.API_DATABASE_URL ? { apiDatabaseUrl: vars.API_DATABASE_URL } : {}),
    redisUrl: vars.REDIS_URL ?? DEFAULT_REDIS_URL,
  };
}

/** Whether something answers a Redis PING at `url`. */
export async function redisAnswers(url: string): Promise<boolean> {
  const { Socket } = await import("node:net");
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (d) => done(d.toString().startsWith("+PONG")));
    socket.connect(Number(u.port || 6379), u.hostname, () => socket.write("PING\r\n"));
  });
}

/** `args`: e.g. ["redis"] to start or stop Redis alone. */
export async function infraScript(name: "up" | "down" | "status", args: string[] = []): Promise<boolean> {
  try {
    await run("bash", [join(repoRoot, `infra/${name}.sh`), ...args], {
      cwd: repoRoot,
      maxBuffer: 16 << 20,
      timeout: 30 * 60_000,
    });
    return true;
  } catch (err) {
    if (name === "status") return false;
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`infra/${name}.sh failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

export function dockerReachable(): boolean {
  return existsSync("/var/run/docker.sock");
}
