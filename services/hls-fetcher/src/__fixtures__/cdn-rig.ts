// The CDN side of a VodFetcher as its tests build it: a rate limiter, the HTTP client under it, and
// domain knowledge with the service's defaults.
import { RateLimiter } from "@vod/cdn-budget";
import type { VodFetchRequest } from "@vod/kafka";
import { vodRequest } from "@vod/testing";
import type { VodTruth } from "@vod/twitch-sim";
import { CdnHttp } from "../http.ts";
import { DomainKnowledge } from "../knowledge.ts";

export interface CdnRig {
  limiter: RateLimiter;
  http: CdnHttp;
  knowledge: DomainKnowledge;
  close(): Promise<void>;
}

/** `timeoutMs` bounds connect, headers and body; a whole request gets twice that. */
export function cdnRig(o: { perSecond?: number; timeoutMs?: number; knowledge?: DomainKnowledge } = {}): CdnRig {
  const limiter = new RateLimiter({ perSecond: o.perSecond ?? 50, floorPerSecond: 1 });
  const t = o.timeoutMs ?? 2_000;
  const http = new CdnHttp(limiter, {
    connectTimeoutMs: t,
    headersTimeoutMs: t,
    bodyTimeoutMs: t,
    requestTimeoutMs: t * 2,
  });
  const knowledge =
    o.knowledge ?? new DomainKnowledge({ halfLifeMs: 6 * 3_600_000, failureThreshold: 3, cooldownMs: 120_000 });
  return { limiter, http, knowledge, close: async () => (await limiter.stop(), await http.close()) };
}

/** The request for `v` as these tests send it: due at the VOD's start, fetched straight away. */
export const directRequest = (v: VodTruth, restart = false): VodFetchRequest =>
  vodRequest(v, { maxViewers: 10, releaseAt: v.startTime, restart });
