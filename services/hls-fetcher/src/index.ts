export { startFetcher, type FetcherDeps, type RunningFetcher } from "./service.ts";
export { readEnv, type FetcherEnv } from "./env.ts";
export { orderCandidates, type Candidate } from "./candidates.ts";
export { RateLimiter } from "./limiter.ts";
export { VodFetcher, type VodFetcherOptions } from "./fetcher.ts";
export { CdnHttp } from "./http.ts";
export { DomainKnowledge } from "./knowledge.ts";
export { VisibilityLookup, type VisibilityOptions, type VodVisibility } from "./visibility.ts";
