import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDuration } from "@vod/config";
import type { Logger } from "@vod/log";
import { runDemo } from "./demo.ts";
import { UsageError } from "./errors.ts";
import { inheritedEnv } from "./env.ts";

const USAGE =
  "usage: vods demo [--for 5m] [--speed 60] [--streams 300] [--seed 7] [--sim-port 8900] [--api-port 8080] [--instances 1]";

function num(raw: string | undefined, fallback: number, flag: string): number {
  const n = Number(raw ?? fallback);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${flag} must be a positive number, got "${raw}"\n${USAGE}`);
  return n;
}

function instances(raw: string | undefined): number {
  const n = Number(raw ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > 6)
    throw new UsageError(
      `--instances must be a whole number from 1 to 6 (the topics' partitions), got "${raw}"\n${USAGE}`,
    );
  return n;
}

export async function demoCommand(argv: string[], log: Logger): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        for: { type: "string" },
        speed: { type: "string" },
        streams: { type: "string" },
        seed: { type: "string" },
        "sim-port": { type: "string" },
        "api-port": { type: "string" },
        instances: { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const forMs = values.for === undefined ? undefined : parseDuration(values.for);
  if (values.for !== undefined && forMs === undefined)
    throw new UsageError(`--for must be a duration like 5m, got "${values.for}"\n${USAGE}`);
  const result = await runDemo({
    root: resolve(dirname(fileURLToPath(import.meta.url)), "../../.."),
    log,
    ...(forMs === undefined ? {} : { forMs }),
    speed: num(values.speed, 60, "speed"),
    streams: num(values.streams, 300, "streams"),
    seed: num(values.seed, 7, "seed"),
    simPort: num(values["sim-port"], 8900, "sim-port"),
    apiPort: num(values["api-port"], 8080, "api-port"),
    instances: instances(values.instances),
    print: (line) => console.log(line),
    env: inheritedEnv(),
  });
  return `demo stopped: ${result.vods} VODs seen, ${result.found} archived, ${result.notFound} not found, ${result.failed} failed (database vod_demo keeps them)`;
}
