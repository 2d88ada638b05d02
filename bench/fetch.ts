/**
 * Fetch benchmark: HTTP requests per found and per not-found VOD over a simulated day, after a
 * day of warm-up builds the domain knowledge. Every VOD is fetched an hour after it ended (as the
 * delay stage releases it), against the simulator's CDN with all 15 live domains.
 */
import { createLogger } from "@vod/log";
import type { VodFetchRequest } from "@vod/kafka";
import { CdnHttp, DomainKnowledge, RateLimiter, VodFetcher } from "@vod/hls-fetcher";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { startSimulator, type VodTruth } from "@vod/twitch-sim";

const STREAMS = 150;
const HOUR = 3_600_000;
const log = createLogger({ service: "bench", level: "error" });

const sim = await startSimulator({ seed: 7, streams: STREAMS, domains: LIVE_VOD_DOMAINS });
const clock = { now: () => sim.clock.now(), realDelay: (ms: number) => ms };
// The rate does not change requests per VOD; a high one keeps the benchmark short.
const limiter = new RateLimiter({ perSecond: 500, floorPerSecond: 1, marginMs: 0 });
const http = new CdnHttp(limiter, { connectTimeoutMs: 2_000, headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000, requestTimeoutMs: 4_000 });
const knowledge = new DomainKnowledge({ halfLifeMs: 6 * HOUR, failureThreshold: 3, cooldownMs: 2 * 60_000 });
const fetcher = new VodFetcher(http, knowledge, clock, { domains: LIVE_VOD_DOMAINS, urlTemplate: sim.cdnUrlTemplate, retries: 2, backoffMs: 100 }, log);
const never = new AbortController().signal;

interface Tally { vods: number; requests: number; max: number; wrong: number }
const tally = (): Record<"found" | "not_found" | "failed" | "live", Tally> => ({
  found: { vods: 0, requests: 0, max: 0, wrong: 0 },
  not_found: { vods: 0, requests: 0, max: 0, wrong: 0 },
  failed: { vods: 0, requests: 0, max: 0, wrong: 0 },
  live: { vods: 0, requests: 0, max: 0, wrong: 0 },
});

const seen = new Set<string>();
async function fetchDay(): Promise<ReturnType<typeof tally>> {
  const t = tally();
  for (let h = 0; h < 24; h++) {
    sim.clock.advance(HOUR);
    const now = sim.clock.now();
    // Ended at least an hour ago and not fetched yet.
    const due = sim.vods({ state: "ended" }).filter((v: VodTruth) => !seen.has(v.videoId) && Date.parse(v.endedAt!) <= now - HOUR);
    for (const v of due) {
      seen.add(v.videoId);
      const req: VodFetchRequest = { v: 1, streamId: v.streamId, startTime: v.startTime, streamerId: v.streamerId, login: v.login, firstSeen: v.startTime, lastSeen: v.endedAt!, maxViewers: 10, releaseAt: new Date(now).toISOString() };
      const onCdn = v.saved && !v.deleted;
      const r = await fetcher.fetch(req, never);
      const bucket = t[r.outcome];
      bucket.vods++;
      bucket.requests += r.requests;
      bucket.max = Math.max(bucket.max, r.requests);
      if ((r.outcome === "found") !== onCdn) bucket.wrong++;
    }
  }
  return t;
}

const fmt = (name: string, x: Tally) => `| ${name} | ${x.vods} | ${x.requests} | ${x.vods ? (x.requests / x.vods).toFixed(2) : "–"} | ${x.max} | ${x.wrong} |`;
sim.resetStats();
const warm = await fetchDay();
const day = await fetchDay();
const stats = sim.stats();
await limiter.stop();
await http.close();
await sim.close();

const all = (t: ReturnType<typeof tally>) => Object.values(t).reduce((s, x) => ({ vods: s.vods + x.vods, requests: s.requests + x.requests }), { vods: 0, requests: 0 });
console.log(`
## Fetch (npm run bench → bench/fetch.ts)

Simulator seed 7, about ${STREAMS} live streams at any time, ${LIVE_VOD_DOMAINS.length} live CDN domains (candidates per VOD: ${LIVE_VOD_DOMAINS.length} × 3 = ${LIVE_VOD_DOMAINS.length * 3}),
each VOD fetched one hour after its end. Day 1 warms the domain knowledge from nothing; day 2 is measured with it.
"wrong" counts VODs whose outcome disagrees with the simulator's truth (found ⇔ on the CDN at fetch time).

| day 2 (warm) | VODs | requests | requests/VOD | max | wrong |
|---|---|---|---|---|---|
${fmt("found", day.found)}
${fmt("not found", day.not_found)}
${fmt("failed", day.failed)}

| day 1 (cold start) | VODs | requests | requests/VOD | max | wrong |
|---|---|---|---|---|---|
${fmt("found", warm.found)}
${fmt("not found", warm.not_found)}
${fmt("failed", warm.failed)}

Both days: ${all(warm).requests + all(day).requests} requests for ${all(warm).vods + all(day).vods} VODs; the simulator counted ${stats.cdn.requests} CDN requests.
At 3 requests/s (259,200 a day) the warm cost per VOD allows about ${Math.round(259_200 / ((all(day).requests || 1) / (all(day).vods || 1))).toLocaleString("en")} VODs a day.
`);
