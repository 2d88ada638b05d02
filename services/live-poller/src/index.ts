export { start, type StartedPoller, type StartOptions } from "./start.ts";
export { readEnv, type PollerEnv } from "./env.ts";
export { runSweep, newSweepId, type SweepOptions, type SweepDeps, type SweepResult } from "./sweep.ts";
export { nextCursor } from "./advance.ts";
export { type ShardOutcome } from "./outcome.ts";
export { parseShards, planShards, type Shard, type ShardPlan, type PageMark } from "./shards.ts";
export { SweepHistory } from "./integrity.ts";
