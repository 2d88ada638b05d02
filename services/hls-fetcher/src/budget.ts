import type { Logger } from "@vod/log";
import type { FetcherEnv } from "./env.ts";
import { RateLimiter } from "@vod/cdn-budget";

/**
 * The CDN request budget: this process's own, or with REDIS_URL the one shared by every fetcher of
 * the egress. A Redis that cannot be reached at start stops the start, saying so.
 */
export async function openBudget(env: FetcherEnv, log: Logger): Promise<RateLimiter> {
  const limiter = new RateLimiter({
    perSecond: env.RATE_PER_SECOND,
    floorPerSecond: env.RATE_FLOOR_PER_SECOND,
    slackMsPerSecond: env.RATE_SLACK,
    ...(env.REDIS_URL
      ? {
          cluster: {
            redisUrl: env.REDIS_URL,
            id: `cdn-budget:${env.CDN_EGRESS}`,
            commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT,
          },
        }
      : {}),
  });
  limiter.onError((err) =>
    log.warn({ err }, "the shared CDN budget's Redis failed; requests wait or fail until it is back"),
  );
  try {
    await limiter.ready();
  } catch (err) {
    await limiter.stop().catch(() => undefined);
    throw new Error(`REDIS_URL: ${(err as Error).message}`);
  }
  return limiter;
}
