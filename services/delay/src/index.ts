export { start, type StartedDelay } from "./start.ts";
export { readEnv, type DelayEnv } from "./env.ts";
export { Tracker, vodKeyOf, requestOf, type TrackerOptions } from "./tracker.ts";
export { releaseTime, type MuteTiming } from "./release-time.ts";
