export { start, type StartedWriter } from "./start.ts";
export { startWriter, isDataError, type WriterDeps } from "./writer.ts";
export { readEnv, type WriterEnv } from "./env.ts";
export { mergeSnapshots, mergeResults, outcomeBeats, vodKeyOf, type SnapshotRow, type ResultRow } from "./merge.ts";
export { upsertSnapshots, upsertResults } from "./upsert.ts";
