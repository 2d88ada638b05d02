export { RateLimiter, type RateLimiterOptions } from "./limiter.ts";
export { SpareTurns, type SpareTurnsOptions } from "./spare.ts";
