export { replay, ReplayRefused, type ReplayOptions, type ReplayResult, type PartitionPlan } from "./replay.ts";
export { parseReplayArgs, formatReplay, UsageError } from "./replay-command.ts";
