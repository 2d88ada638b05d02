import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { list, parseEnv } from "@vod/config";

/** Where the benchmarks find the broker, PostgreSQL and Redis: the local infra's ports unless told otherwise. */
export const benchEnv = parseEnv(
  z.object({
    KAFKA_BROKERS: list(["127.0.0.1:19092"]),
    DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
    /** The local infra's Redis: fetchers share one CDN budget through it. */
    REDIS_URL: z.string().default("redis://127.0.0.1:16379"),
  }),
  process.env,
);

/** The environment handed to processes a benchmark starts (PATH and the rest), with its own additions. */
export const childEnv = (extra: Record<string, string>): Record<string, string | undefined> => ({
  ...process.env,
  ...extra,
});

type Need = "kafka" | "postgres" | "redis";
const ENV_OF: Record<Need, string> = { kafka: "KAFKA_BROKERS", postgres: "DATABASE_URL", redis: "REDIS_URL" };

/**
 * What a benchmark needs, up before it starts. With the local defaults, the local infrastructure is
 * started (or only re-checked, when it runs: `infra/up.sh` is idempotent); with any endpoint set in
 * the environment nothing is started, and an endpoint that does not answer ends the run with one line
 * saying which and what to do.
 */
export async function ensureInfra(needs: Need[]): Promise<void> {
  if (!Object.values(ENV_OF).some((name) => process.env[name])) {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..");
    // stdout stays the benchmark's own (its last line is its JSON); progress and errors go to stderr.
    const up = spawnSync("bash", [join(root, "infra/up.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    if (up.status === 0) return;
    console.error("the local infrastructure did not start (infra/up.sh failed; its reasons are above)");
    process.exit(1);
  }
  for (const need of needs) {
    const [host, port] = endpointOf(need);
    if (await answers(host, port)) continue;
    console.error(
      `${need} at ${host}:${port} (${ENV_OF[need]}) does not answer: start it, or unset ${ENV_OF[need]} to use the local infrastructure`,
    );
    process.exit(1);
  }
}

function endpointOf(need: Need): [string, number] {
  if (need === "kafka") {
    const [host = "127.0.0.1", port = "9092"] = benchEnv.KAFKA_BROKERS[0]!.split(":");
    return [host, Number(port)];
  }
  const url = new URL(need === "postgres" ? benchEnv.DATABASE_URL : benchEnv.REDIS_URL);
  return [url.hostname, Number(url.port || (need === "postgres" ? 5432 : 6379))];
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}
