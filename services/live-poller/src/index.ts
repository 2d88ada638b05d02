export { start, type StartedPoller, type StartOptions } from "./start.ts";
export { readEnv, type PollerEnv } from "./env.ts";
export {
  runSweep,
  nextCursor,
  newSweepId,
  type SweepOptions,
  type SweepDeps,
  type SweepResult,
  type ShardOutcome,
} from "./sweep.ts";
export { parseShards, planShards, type Shard, type ShardPlan, type PageMark } from "./shards.ts";
export { SweepHistory } from "./integrity.ts";
