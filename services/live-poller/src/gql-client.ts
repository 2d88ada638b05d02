import { sleep } from "@vod/backoff";
import Bottleneck from "bottleneck";
import type { Counter } from "prom-client";
import { createGqlBatchClient, type GqlBatchClient } from "@vod/twitch";
import type { PollerEnv } from "./env.ts";

/** Resolves when a POST may leave: at most `k` in any `k / rate` seconds (k = the rate, at least 1). */
export function slidingWindow(rate: number, now: () => number = () => performance.now()): () => Promise<void> {
  const k = Math.max(1, Math.floor(rate));
  // Padded: a POST leaves a few milliseconds after its slot when the event loop is busy.
  const spanMs = (k * 1000) / rate + 25;
  const sent: number[] = [];
  return async function take(): Promise<void> {
    for (;;) {
      const t = now();
      while (sent.length > 0 && t - (sent[0] as number) >= spanMs) sent.shift();
      if (sent.length < k) {
        sent.push(t);
        return;
      }
      await sleep(spanMs - (t - (sent[0] as number)) + 1);
    }
  };
}

export interface RateLimitedGql {
  gql: GqlBatchClient;
  /** Drops the POSTs still waiting for their turn. */
  stop(): Promise<void>;
}

/**
 * The GQL client of the sweeps: POSTs go through one limiter, GQL_CONCURRENCY in flight and at most
 * GQL_RATE a second, each counted in `posts` and told to `onPost` as it leaves.
 */
export function rateLimitedGql(env: PollerEnv, posts: Counter, onPost?: () => void): RateLimitedGql {
  const limiter = new Bottleneck({ maxConcurrent: env.GQL_CONCURRENCY, minTime: Math.ceil(1000 / env.GQL_RATE) });
  // Bottleneck spaces jobs as it schedules them; a busy event loop can start one late and the next
  // on time. This window holds the rate as the endpoint sees it: never GQL_RATE + 1 POSTs in a second.
  const window = slidingWindow(env.GQL_RATE);
  const gql = createGqlBatchClient({
    endpoint: env.GQL_ENDPOINT,
    clientId: env.GQL_CLIENT_ID,
    headers: env.GQL_HEADERS,
    timeoutMs: env.GQL_TIMEOUT,
    schedule: (post) =>
      limiter.schedule(async () => {
        await window();
        posts.inc();
        onPost?.();
        return post();
      }),
  });
  return { gql, stop: () => limiter.stop({ dropWaitingJobs: true }).catch(() => undefined) };
}
