/**
 * Fetch benchmark: CDN requests per VOD in the simulator's realistic world, day 1 to learn and
 * day 2 measured. Every VOD is fetched at the time the delay releases it (the first mute boundary
 * at least 5 minutes after its end, plus 10 minutes), through the real fetcher: GQL first, the
 * search with its early stop, automatic retries of failed VODs, and the deep search on the budget
 * the first lane leaves (3 requests/s scaled to this world's VODs a day against Twitch's 168,000).
 *
 *   npm run bench:fetch -- --seed 7 [--streams 1500] [--gql-down] [--stop 0.03]
 *
 * Last line: one JSON object with the figures.
 */
import { setMaxListeners } from "node:events";
import { parseArgs } from "node:util";
import { createLogger } from "@vod/log";
import type { VodFetchRequest, VodFetchResult } from "@vod/kafka";
import {
  ArchiveLookup,
  BlockDetector,
  CdnHttp,
  DomainKnowledge,
  FollowUps,
  RateLimiter,
  VodFetcher,
  followUpKey,
  type FetchReport,
} from "@vod/hls-fetcher";
import {
  onCdnAt,
  REALISTIC_CONFIGURED_DOMAINS,
  REALISTIC_DOMAINS,
  REALISTIC_RATES,
  startSimulator,
  type VodTruth,
} from "@vod/twitch-sim";
import { mapConcurrently } from "./parallel.ts";

const { values: args } = parseArgs({
  options: {
    seed: { type: "string", default: "7" },
    streams: { type: "string", default: "1500" },
    "gql-down": { type: "boolean", default: false },
    stop: { type: "string", default: "0.03" },
    "min-viewers": { type: "string", default: "10" },
  },
});
const SEED = Number(args.seed);
const STREAMS = Number(args.streams);
const GQL_DOWN = args["gql-down"];
const MIN_VIEWERS = Number(args["min-viewers"]);
const HOUR = 3_600_000;
const STEP = 10 * 60_000;
const TWITCH_VODS_PER_DAY = 168_000;
const RATE = 3;
const log = createLogger({ service: "bench", level: "error" });

const started = performance.now();
const sim = await startSimulator({
  seed: SEED,
  streams: STREAMS,
  world: "realistic",
  rates: REALISTIC_RATES,
  domains: REALISTIC_DOMAINS,
});
const clock = { now: () => sim.clock.now(), realDelay: (ms: number) => ms };
// The rate does not change requests per VOD; a high one keeps the benchmark short. The deep lane's
// budget is modelled below instead.
const limiter = new RateLimiter({ perSecond: 2000, floorPerSecond: 1, slackMsPerSecond: 0 });
const http = new CdnHttp(limiter, {
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 2_000,
  requestTimeoutMs: 4_000,
});
const knowledge = new DomainKnowledge({ halfLifeMs: 6 * HOUR, failureThreshold: 3, cooldownMs: 2 * 60_000 });
const archives = new ArchiveLookup(
  {
    endpoint: sim.gqlUrl,
    clientId: "bench",
    perSecond: 1000,
    timeoutMs: 3_000,
    batchSize: 10,
    batchWaitMs: 5,
    cacheMs: 0,
  },
  log,
);
const followUps = new FollowUps({
  retryInitialMs: 2 * 60_000,
  retryMaxMs: 30 * 60_000,
  retryForMs: 24 * HOUR,
  deepForMs: 12 * HOUR,
  deepStopProbability: 0.005,
  deepStopProbabilityStreamer: 0.0005,
});
const block = new BlockDetector({
  threshold: 3,
  windowMs: 120_000,
  holdMs: 300_000,
  onBlock: () => limiter.rateLimited(),
});
if (GQL_DOWN) sim.faults.add({ id: "gql-down", kind: "down", target: "gql" });
const fetcher = new VodFetcher(
  http,
  knowledge,
  clock,
  {
    domains: REALISTIC_CONFIGURED_DOMAINS,
    urlTemplate: sim.cdnUrlTemplate,
    retries: 1,
    backoffMs: 50,
    stopProbability: Number(args.stop),
    discoverable: /^(d[a-z0-9]{8,20}\.cloudfront\.net|vod-[a-z0-9-]+\.twitch\.tv)$/,
    archives,
    block,
  },
  log,
);
const never = new AbortController().signal;
// Every concurrent fetch listens on the one signal.
setMaxListeners(1000, never);

interface VodTally {
  truth: VodTruth;
  onCdn: boolean;
  requests: number;
  outcome: VodFetchResult["outcome"];
  url: string | null;
  partial: boolean;
}

const releaseAt = (v: VodTruth) => Math.ceil((Date.parse(v.endedAt!) + 5 * 60_000) / HOUR) * HOUR + 10 * 60_000;
/** The delay flags a same-id restart when it tracked the first session; a false start (under 5 viewers) it never saw. */
const restartSeen = (v: VodTruth): boolean => {
  if (v.variant !== "seconds") return false;
  const earlier = sim
    .vods({ login: v.login, streamId: v.streamId })
    .filter((o) => Date.parse(o.startTime) < Date.parse(v.startTime));
  return earlier.some((o) => !o.falseStart);
};
const requestOf = (v: VodTruth): VodFetchRequest => ({
  v: 1,
  streamId: v.streamId,
  startTime: v.startTime,
  streamerId: v.streamerId,
  login: v.login,
  firstSeen: v.startTime,
  lastSeen: v.endedAt!,
  maxViewers: v.peakViewers,
  releaseAt: new Date(releaseAt(v)).toISOString(),
  restart: restartSeen(v),
});

const seen = new Set<string>();
const RANK = { live: 0, failed: 1, not_found: 2, found: 3 } as const;

function record(day: Map<string, VodTally> | null, report: FetchReport, extraRequests = 0): void {
  const r = report.result;
  const t = day?.get(followUpKey(r));
  if (!t) return;
  t.requests += r.requests + extraRequests;
  if (RANK[r.outcome] >= RANK[t.outcome] || t.outcome === "failed") {
    t.outcome = r.outcome;
    t.url = r.found?.url ?? null;
    t.partial = r.partial === true;
  }
}

/** One simulated day: VODs released in it are fetched at their release time; follow-ups run alongside. */
async function runDay(budgetPerStep: number): Promise<{
  vods: Map<string, VodTally>;
  cdnRequests: number;
  gqlPosts: number;
  deepRequests: number;
  vodsReleased: number;
}> {
  const vods = new Map<string, VodTally>();
  const statsBefore = sim.stats().cdn.requests;
  const postsBefore = archives.posts;
  let deepRequests = 0;
  let released = 0;
  for (let step = 0; step < (24 * HOUR) / STEP; step++) {
    sim.clock.advance(STEP);
    const now = sim.clock.now();
    const stepStart = sim.stats().cdn.requests;
    // Released in this step: ended at least the mute gap before a boundary that has passed (plus margin).
    const due = sim
      .vods({ state: "ended", endedFrom: now - 2 * HOUR - STEP, endedBefore: now })
      .filter((v) => !seen.has(`${v.streamId}|${v.startTime}`) && releaseAt(v) <= now && v.peakViewers >= MIN_VIEWERS);
    released += due.length;
    for (const v of due) {
      seen.add(`${v.streamId}|${v.startTime}`);
      vods.set(followUpKey(requestOf(v)), {
        truth: v,
        onCdn: onCdnAt(v, now),
        requests: 0,
        outcome: "failed",
        url: null,
        partial: false,
      });
    }
    const reports = await mapConcurrently(due, 16, (v) => fetcher.run(requestOf(v), never));
    reports.forEach((report, i) => {
      record(vods, report);
      followUps.apply(requestOf(due[i]!), report, now);
    });
    const retries = followUps.dueRetries(now, 1000);
    const retried = await mapConcurrently(retries, 16, (r) => fetcher.run(r, never));
    retried.forEach((report, i) => {
      record(vods, report);
      followUps.apply(retries[i]!, report, now);
    });
    // The deep lane gets what the first lane left of this step's budget.
    let left = budgetPerStep - (sim.stats().cdn.requests - stepStart);
    while (left >= 1) {
      const pick = followUps.nextDeep(now, (r) => fetcher.candidates(r));
      if (!pick) break;
      const { result, missed } = await fetcher.probe(pick.request, pick.candidate, never, 9);
      left--;
      deepRequests++;
      const t = vods.get(pick.key);
      if (t) t.requests++;
      if (result) {
        record(vods, { result }, -result.requests);
        followUps.settle(pick.key);
      } else if (missed) followUps.deepMissed(pick.key, pick.candidate);
      else break;
    }
  }
  return {
    vods,
    cdnRequests: sim.stats().cdn.requests - statsBefore,
    gqlPosts: archives.posts - postsBefore,
    deepRequests,
    vodsReleased: released,
  };
}

// Day 0: VODs that ended before the run started are not measured; the world gets going.
sim.clock.advance(6 * HOUR);
for (const v of sim.vods({ state: "ended", endedBefore: sim.clock.now() - HOUR }))
  seen.add(`${v.streamId}|${v.startTime}`);
const day1 = await runDay(Infinity);
const scale = day1.vodsReleased / TWITCH_VODS_PER_DAY;
const budgetPerStep = RATE * (STEP / 1000) * scale;
const day2 = await runDay(budgetPerStep);

interface Row {
  vods: number;
  requests: number;
  max: number;
}
function summarize(day: Map<string, VodTally>) {
  const by: Record<string, Row> = {};
  let onCdn = 0;
  let foundOnCdn = 0;
  let wrongUrl = 0;
  let wrongOutcome = 0;
  const missed = new Map<string, number>();
  for (const t of day.values()) {
    const row = (by[t.outcome] ??= { vods: 0, requests: 0, max: 0 });
    row.vods++;
    row.requests += t.requests;
    row.max = Math.max(row.max, t.requests);
    if (t.onCdn) onCdn++;
    if (t.outcome === "found") {
      if (t.onCdn) foundOnCdn++;
      if (t.url !== sim.playlistUrl(t.truth)) wrongUrl++;
    }
    if ((t.outcome === "found") !== t.onCdn && t.outcome !== "failed") wrongOutcome++;
    if (t.onCdn && t.outcome !== "found") {
      const v = t.truth;
      const why = [
        v.hidden && "hidden",
        v.newStreamer && "new streamer",
        v.scattered && "scattered",
        v.migratedHere && "migrated",
        v.unconfiguredDomain && "unconfigured domain",
        v.variant !== "start" && v.variant,
      ]
        .filter(Boolean)
        .join(", ");
      missed.set(why || "other", (missed.get(why || "other") ?? 0) + 1);
    }
  }
  return { by, onCdn, foundOnCdn, wrongUrl, wrongOutcome, missed };
}

const s1 = summarize(day1.vods);
const s2 = summarize(day2.vods);
await limiter.stop();
await http.close();
await archives.stop();
await sim.close();

const row = (name: string, r: Row | undefined) =>
  `| ${name} | ${r?.vods ?? 0} | ${r?.requests ?? 0} | ${r && r.vods ? (r.requests / r.vods).toFixed(2) : "–"} | ${r?.max ?? 0} |`;
const table = (title: string, s: ReturnType<typeof summarize>) =>
  [
    `| ${title} | VODs | requests | requests/VOD | max |`,
    "|---|---|---|---|---|",
    row("found", s.by.found),
    row("not found", s.by.not_found),
    row("failed", s.by.failed),
    row("live", s.by.live),
  ].join("\n");
const vods2 = day2.vods.size;
const found2 = s2.by.found?.vods ?? 0;
const figures = {
  seed: SEED,
  vods: vods2,
  onCdn: s2.onCdn,
  found: found2,
  notFound: s2.by.not_found?.vods ?? 0,
  failed: s2.by.failed?.vods ?? 0,
  requests: day2.cdnRequests,
  requestsPerVod: round(day2.cdnRequests / Math.max(1, vods2)),
  requestsPerFound: round((s2.by.found?.requests ?? 0) / Math.max(1, found2)),
  requestsPerNotFound: round((s2.by.not_found?.requests ?? 0) / Math.max(1, s2.by.not_found?.vods ?? 0)),
  recall: round(s2.foundOnCdn / Math.max(1, s2.onCdn), 4),
  vodsPerDayAt3rps: Math.round(259_200 / Math.max(1e-9, day2.cdnRequests / Math.max(1, vods2))),
  gqlPosts: day2.gqlPosts,
  wrongUrls: s2.wrongUrl,
  deepRequests: day2.deepRequests,
  gqlDown: GQL_DOWN,
};
function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

console.log(`
## Fetch (npm run bench:fetch -- --seed ${SEED}${GQL_DOWN ? " --gql-down" : ""})

Simulator seed ${SEED}, realistic world, about ${STREAMS} live streams; VODs that reached ${MIN_VIEWERS} viewers, each
fetched at its release time. Day 1 learns from nothing; day 2 is measured. Deep-search budget: ${RATE}/s scaled by
${day1.vodsReleased} VODs a day against Twitch's ${TWITCH_VODS_PER_DAY.toLocaleString("en")} (${budgetPerStep.toFixed(1)} requests per 10 minutes).
${GQL_DOWN ? "GraphQL is down all day (every POST answers 503).\n" : ""}
${table("day 2 (warm)", s2)}

${table("day 1 (cold start)", s1)}

Day 2: ${vods2} VODs, ${s2.onCdn} on the CDN at fetch time, ${found2} found (recall ${(figures.recall * 100).toFixed(2)}%),
${day2.cdnRequests} CDN requests (${figures.requestsPerVod} per VOD, ${day2.deepRequests} of them deep search), ${day2.gqlPosts} GQL POSTs,
${s2.wrongUrl} found URLs that differ from the simulator's, ${s2.wrongOutcome} outcomes that contradict it.
Missed (on the CDN, not found): ${[...s2.missed].map(([why, n]) => `${n} ${why}`).join("; ") || "none"}.
At ${RATE} requests/s: about ${figures.vodsPerDayAt3rps.toLocaleString("en")} VODs a day. Took ${((performance.now() - started) / 1000).toFixed(0)} s.
`);
console.log(JSON.stringify(figures));
