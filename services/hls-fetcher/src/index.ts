export { startFetcher, type FetcherDeps, type RunningFetcher } from "./service.ts";
export { readEnv, type FetcherEnv } from "./env.ts";
export { orderCandidates, type Candidate } from "./candidates.ts";
export { RateLimiter } from "./limiter.ts";
