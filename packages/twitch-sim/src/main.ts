import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "@vod/config";
import { createLogger } from "@vod/log";
import { loadEnv } from "./env.ts";
import { segmentBody } from "./media.ts";
import { startSimulator } from "./server.ts";
import { optionsFromScenario, type SimulatorOptions } from "./simulator-options.ts";
import { parseOptionalSpan } from "./times.ts";

const USAGE = `Twitch simulator: GQL at /gql, CDN domains at /cdn/{domain}/ or by Host header, admin API at /admin/.

  npm run sim -- [--port 8900] [--seed 1] [--streams 200] [--world default|realistic] [--speed 60 | --virtual]
                 [--mute-interval 1h] [--viewer-tick 1m] [--retain 48h] [--start 2025-01-06T12:00:00Z]
                 [--scenario file.json] [--host 127.0.0.1] [--log-level info] [--segment playable|packet|FILE]

Segments are a real 10-second MPEG-TS (playable, the default: archived VODs play), one 188-byte
packet (packet: for benchmarks about requests), or the given file.

Flags override SIM_* environment variables, which override the scenario file.`;

function readSegment(choice: string): Buffer | undefined {
  try {
    return segmentBody(choice);
  } catch (err) {
    throw new ConfigError([{ field: "--segment", problem: `cannot read "${choice}": ${(err as Error).message}` }]);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string" },
      port: { type: "string" },
      seed: { type: "string" },
      streams: { type: "string" },
      world: { type: "string" },
      speed: { type: "string" },
      virtual: { type: "boolean" },
      start: { type: "string" },
      "mute-interval": { type: "string" },
      "viewer-tick": { type: "string" },
      retain: { type: "string" },
      scenario: { type: "string" },
      "log-level": { type: "string" },
      segment: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = loadEnv();
  const logger = createLogger({ service: "twitch-sim", level: values["log-level"] ?? env.LOG_LEVEL });
  const scenarioPath = values.scenario ?? env.SIM_SCENARIO;
  const scenarioRaw: unknown = scenarioPath ? JSON.parse(readFileSync(scenarioPath, "utf8")) : {};
  const scenario: SimulatorOptions = optionsFromScenario(scenarioRaw);
  const scenarioVirtual = (scenarioRaw as { clock?: unknown }).clock === "virtual";
  const num = (flag: string | undefined, name: string): number | undefined => {
    if (flag === undefined) return undefined;
    const n = Number(flag);
    if (!Number.isFinite(n))
      throw new ConfigError([{ field: `--${name}`, problem: `expected a number, got "${flag}"` }]);
    return n;
  };
  const world = values.world;
  if (world !== undefined && world !== "default" && world !== "realistic") {
    throw new ConfigError([{ field: "--world", problem: `expected default or realistic, got "${world}"` }]);
  }
  const speedGiven = values.speed !== undefined || env.SIM_SPEED !== undefined;
  const virtual = values.virtual === true || (scenarioVirtual && !speedGiven);
  const speed = virtual ? undefined : (num(values.speed, "speed") ?? env.SIM_SPEED ?? scenario.speed ?? 1);
  const options: SimulatorOptions = {
    ...scenario,
    host: values.host ?? env.SIM_HOST,
    port: num(values.port, "port") ?? env.SIM_PORT ?? 8900,
    seed: num(values.seed, "seed") ?? env.SIM_SEED ?? scenario.seed,
    streams: num(values.streams, "streams") ?? env.SIM_STREAMS ?? scenario.streams ?? 200,
    world,
    speed,
    start: values.start ?? scenario.start,
    muteIntervalMs: parseOptionalSpan(values["mute-interval"]) ?? env.SIM_MUTE_INTERVAL ?? scenario.muteIntervalMs,
    viewerTickMs: parseOptionalSpan(values["viewer-tick"]) ?? scenario.viewerTickMs,
    retainMs: parseOptionalSpan(values.retain) ?? scenario.retainMs,
    logger,
  };
  const segment = readSegment(values.segment ?? env.SIM_SEGMENT);
  if (segment) options.segment = segment;
  const started = performance.now();
  const sim = await startSimulator(options);
  logger.info(
    {
      gql: sim.gqlUrl,
      cdn: sim.cdnUrlTemplate,
      admin: `${sim.url}/admin/`,
      startupMs: Math.round(performance.now() - started),
      heapMb: Math.round(process.memoryUsage().heapUsed / 1e6),
    },
    "ready",
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "stopping");
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    void sim.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
