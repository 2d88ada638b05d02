import type { Clock } from "@vod/clock";
import type { ArchiveLookupOptions } from "./archives.ts";
import type { BlockDetector, BlockOptions } from "./block.ts";
import { playlistCaps, type FetcherEnv } from "./env.ts";
import type { VodFetcherOptions } from "./fetcher.ts";
import type { FollowUpOptions } from "./followups.ts";
import type { CdnHttpOptions } from "./http.ts";
import type { KnowledgeOptions } from "./knowledge.ts";

/** Each part's options as the environment sets them. */

export const knowledgeOptions = (
  env: FetcherEnv,
  clock: Clock,
  onLearned: (domain: string) => void,
): KnowledgeOptions => ({
  halfLifeMs: env.DOMAIN_SCORE_HALF_LIFE,
  failureThreshold: env.DOMAIN_FAILURE_THRESHOLD,
  cooldownMs: env.DOMAIN_COOLDOWN,
  streamerCacheSize: env.STREAMER_CACHE_SIZE,
  streamerCacheTtlMs: env.STREAMER_CACHE_TTL,
  discoverable: env.CDN_DISCOVERABLE,
  deadDomains: env.CDN_DEAD_DOMAINS,
  learnedTtlMs: env.DOMAIN_LEARNED_TTL,
  now: () => clock.now(),
  onLearned,
});

export const followUpOptions = (env: FetcherEnv): FollowUpOptions => ({
  retryInitialMs: env.RETRY_INITIAL,
  retryMaxMs: env.RETRY_MAX,
  retryForMs: env.RETRY_FOR,
  deepForMs: env.DEEP_SEARCH_FOR,
  deepStopProbability: env.DEEP_STOP_PROBABILITY,
  deepStopProbabilityStreamer: env.DEEP_STOP_PROBABILITY_STREAMER,
});

export const httpOptions = (env: FetcherEnv): CdnHttpOptions => ({
  connectTimeoutMs: env.CONNECT_TIMEOUT,
  headersTimeoutMs: env.HEADERS_TIMEOUT,
  bodyTimeoutMs: env.BODY_TIMEOUT,
  requestTimeoutMs: env.REQUEST_TIMEOUT,
});

export const archiveOptions = (env: FetcherEnv, clock: Clock): ArchiveLookupOptions => ({
  endpoint: env.GQL_ENDPOINT,
  clientId: env.GQL_CLIENT_ID,
  perSecond: env.GQL_RATE,
  timeoutMs: env.GQL_TIMEOUT,
  maxBodyBytes: env.GQL_MAX_BODY_BYTES,
  batchSize: env.GQL_BATCH,
  batchWaitMs: env.GQL_BATCH_WAIT,
  cacheMs: 30_000,
  now: () => clock.now(),
});

export const blockOptions = (env: FetcherEnv): Omit<BlockOptions, "onBlock"> => ({
  threshold: env.BLOCK_403_THRESHOLD,
  windowMs: env.BLOCK_WINDOW,
  holdMs: env.BLOCK_HOLD,
});

export const fetcherOptions = (
  env: FetcherEnv,
  block: BlockDetector,
  archives: VodFetcherOptions["archives"],
): VodFetcherOptions => ({
  domains: env.CDN_DOMAINS,
  urlTemplate: env.CDN_URL_TEMPLATE,
  retries: env.REQUEST_RETRIES,
  backoffMs: env.RETRY_BACKOFF,
  stopProbability: env.STOP_PROBABILITY,
  liveResultLimit: env.LIVE_RESULT_LIMIT,
  playlist: playlistCaps(env),
  discoverable: env.CDN_DISCOVERABLE,
  block,
  ...(archives ? { archives } : {}),
});
