export { replay, ReplayRefused, type ReplayOptions, type ReplayResult, type PartitionPlan } from "./replay.ts";
export { parseReplayArgs, formatReplay } from "./replay-command.ts";
export { CommandError, UsageError } from "./errors.ts";
export { doctor, formatDoctor, failureWindows, type DoctorReport, type DoctorOptions } from "./doctor.ts";
export { recoverCommand, recoverEnvSchema, formatRecovered, type RecoverEnv } from "./recover-command.ts";
export { serviceNodeFlags, nodeArgs, waitForHttp, stopChild } from "./launch.ts";
