export { parseVodPath, timestampCandidates, vodHash, vodKey, vodPath } from "./vod-path.ts";
export type { ParsedVodPath, TimestampCandidate, TimestampVariant } from "./vod-path.ts";
export { DEAD_VOD_DOMAINS, LIVE_VOD_DOMAINS, VOD_QUALITIES } from "./domains.ts";
