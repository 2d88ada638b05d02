/**
 * A day of Twitch, end to end (see bench/soak/run.ts):
 *
 *   npm run soak -- [--scale 0.1] [--hours 24] [--learn 24] [--warmup 4] [--warmup-budget 10] [--speed 60] [--instances 1] [--seed 1] [--json] [--no-infra-faults] [--no-faults] [--brokers 3]
 *
 * --brokers 3 runs Kafka as a cluster of the soak's own (bench/soak/broker-faults.ts) and adds its faults:
 * kill -9 of a broker for 10 simulated minutes, a rolling restart, a broker's data dir wiped.
 *
 * Writes docs/soak.md and docs/soak.svg (unless --no-report), prints progress, the goals, and as
 * its last line one JSON object. Exits 1 when a goal is missed.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { createLogger } from "@vod/log";
import { benchEnv, childEnv, ensureInfra } from "./env.ts";
import { runSoak } from "./soak/run.ts";
import { startBrokerCluster } from "./soak/broker-faults.ts";
import { chart, goals, markdown } from "./soak/report.ts";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "0.1" },
    hours: { type: "string", default: "24" },
    learn: { type: "string", default: "24" },
    warmup: { type: "string", default: "4" },
    "warmup-budget": { type: "string", default: "10" },
    speed: { type: "string", default: "60" },
    instances: { type: "string", default: "1" },
    brokers: { type: "string", default: "1" },
    seed: { type: "string", default: "1" },
    "sim-port": { type: "string", default: "18090" },
    "meter-port": { type: "string", default: "18091" },
    json: { type: "boolean", default: false },
    "no-infra-faults": { type: "boolean", default: false },
    "no-faults": { type: "boolean", default: false },
    "no-report": { type: "boolean", default: false },
    /** bench:fetch's requests per VOD (docs/benchmarks.md), to compare with. */
    "fetch-per-vod": { type: "string", default: "1.056" },
  },
});
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await ensureInfra(["kafka", "postgres", "redis"]);
const brokerCount = Number(values.brokers);
if (!Number.isInteger(brokerCount) || brokerCount < 1 || brokerCount > 9) {
  console.error(`--brokers must be a number of Kafka nodes from 1 to 9, got "${values.brokers}"`);
  process.exit(2);
}
const brokerCluster = brokerCount > 1 ? await startBrokerCluster(root, brokerCount) : undefined;
const command = `npm run soak -- ${process.argv.slice(2).join(" ")}`.trim();
const result = await runSoak({
  root,
  log: createLogger({ service: "soak", level: "warn" }),
  scale: Number(values.scale),
  hours: Number(values.hours),
  learnHours: Number(values.learn),
  warmupHours: Number(values.warmup),
  warmupBudget: Number(values["warmup-budget"]),
  speed: Number(values.speed),
  instances: Number(values.instances),
  seed: Number(values.seed),
  simPort: Number(values["sim-port"]),
  meterPort: Number(values["meter-port"]),
  brokers: brokerCluster?.brokers ?? benchEnv.KAFKA_BROKERS.join(","),
  ...(brokerCluster ? { brokerCluster } : {}),
  redisUrl: benchEnv.REDIS_URL,
  adminDatabaseUrl: benchEnv.DATABASE_URL,
  infraFaults: !values["no-infra-faults"],
  faults: !values["no-faults"],
  progress: (line) => console.log(line),
  env: childEnv({}),
}).finally(() => brokerCluster?.run("down"));
const checks = goals(result, Number(values["fetch-per-vod"]));
if (!values["no-report"]) {
  writeFileSync(join(root, "docs/soak.svg"), chart(result, result.startedAt));
  writeFileSync(join(root, "docs/soak.md"), markdown(result, checks, command, "soak.svg"));
  // In the repository's style, so the format check stays clean after a run.
  spawnSync(join(root, "node_modules/.bin/prettier"), ["--write", join(root, "docs/soak.md")], { stdio: "ignore" });
  console.log("wrote docs/soak.md and docs/soak.svg");
}
for (const g of checks) console.log(`${g.ok ? "met    " : "MISSED "} ${g.name}: ${g.detail}`);
const {
  scale,
  simHours,
  instances,
  vods,
  onCdnWhenDue,
  archived,
  missed,
  early,
  truncated,
  duplicates,
  latencyP50Min,
  latencyP99Min,
  requestsPerVod,
  busiestSecond,
  limitPerSecond,
  maxDrainMin,
  rssMbMax,
  realMinutes,
  brokers,
  maxBrokerFaultDrainMin,
} = result;
if (values.json) console.log(JSON.stringify(result));
console.log(
  JSON.stringify({
    scale,
    simHours,
    instances,
    vods,
    onCdnWhenDue,
    archived,
    missed,
    early,
    truncated,
    duplicates,
    latencyP50Min,
    latencyP99Min,
    requestsPerVod,
    busiestSecond,
    limitPerSecond,
    maxDrainMin,
    rssMbMax,
    realMinutes,
    brokers,
    maxBrokerFaultDrainMin,
  }),
);
process.exit(checks.every((g) => g.ok) ? 0 : 1);
