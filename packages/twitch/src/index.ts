export { parseVodPath, timestampCandidates, vodHash, vodKey, vodPath } from "./vod-path.ts";
export type { ParsedVodPath, TimestampCandidate, TimestampVariant } from "./vod-path.ts";
export { DEAD_VOD_DOMAINS, LIVE_VOD_DOMAINS, VOD_QUALITIES } from "./domains.ts";
export { createGqlClient, GqlError, TWITCH_GQL_ENDPOINT, TWITCH_WEB_CLIENT_ID } from "./gql/client.ts";
export type { GqlAnswer, GqlClient, GqlClientOptions } from "./gql/client.ts";
export {
  LIVE_STREAMS_QUERY,
  LIVE_USERS_QUERY,
  MAX_USERS_PER_QUERY,
  liveStreamsVariables,
  parseLiveStreamsPage,
  parseLiveUsers,
} from "./gql/live-streams.ts";
export type { LiveStream, LiveStreamsPage, LiveUsersParse, PageParse } from "./gql/live-streams.ts";
export { createGqlBatchClient } from "./gql/batch.ts";
export type { GqlBatchClient, GqlBatchClientOptions, GqlOperation, GqlOperationResult } from "./gql/batch.ts";
export { isLanguage, LANGUAGES, type Language } from "./gql/languages.ts";
export {
  DEFAULT_PLAYLIST_LIMITS,
  hasEndList,
  isPlaylist,
  latestStartMs,
  PlaylistRefused,
  processPlaylist,
} from "./cdn/playlist.ts";
export { orderCandidates, posterior } from "./cdn/candidates.ts";
export type { Candidate, OrderInputs } from "./cdn/candidates.ts";
export type { PlaylistLimits, ProcessedPlaylist } from "./cdn/playlist.ts";
export {
  ARCHIVES_PAGE_SIZE,
  listingCovers,
  listingVisibility,
  matchListedVod,
  parseArchiveListing,
  parseStreamerArchives,
  STREAMER_ARCHIVES_BY_LOGIN_QUERY,
  STREAMER_ARCHIVES_QUERY,
  streamerArchivesByLoginVariables,
  streamerArchivesVariables,
} from "./gql/streamer-archives.ts";
export type { ArchiveListing, ListedVod, Visibility } from "./gql/streamer-archives.ts";
