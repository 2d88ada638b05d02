export { start, type StartedPoller } from "./start.ts";
export { readEnv, type PollerEnv } from "./env.ts";
export { runSweep, nextCursor, newSweepId, type SweepOptions, type SweepDeps } from "./sweep.ts";
