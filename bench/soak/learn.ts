/**
 * The fetcher's memory of the days before the run. A deployment that has run for a while knows where
 * each streamer's VODs live and which streamers save none; a run that starts from nothing measures a
 * first day, when every streamer costs a search. So before the measured run, every VOD of the
 * simulated hours before it is fetched at its release time through the fetcher's own code (GQL
 * listing, search, domain and streamer knowledge) with no budget limit, and what it learned is saved
 * to the run's database, where the fetchers load it at start. A search stopped early goes on as the
 * fetcher's deep search would from leftover budget (its own `FollowUps`), to its end: without it, a
 * streamer who hides its VODs and whose first one was not found is taken for one who saves none, and
 * never searched again. Nothing else is kept: no rows, no follow-ups, no offsets.
 */
import { setMaxListeners } from "node:events";
import { createDb, createPool } from "@vod/db";
import type { VodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import {
  ArchiveLookup,
  CdnHttp,
  DomainKnowledge,
  FollowUps,
  RateLimiter,
  VodFetcher,
  type FetchReport,
  type FollowUpOptions,
} from "@vod/hls-fetcher";
import type { VodTruth } from "@vod/twitch-sim";
import { dueAt } from "./measure.ts";
import { mapConcurrently } from "../parallel.ts";

const MIN = 60_000;
const STEP = 10 * MIN;
/** The fetcher's defaults (services/hls-fetcher/src/env.ts); failed VODs are not retried here. */
const DEEP: FollowUpOptions = {
  retryInitialMs: MIN,
  retryMaxMs: MIN,
  retryForMs: 0,
  deepForMs: 12 * 60 * MIN,
  deepStopProbability: 0.005,
  deepStopProbabilityStreamer: 0.0005,
};

export interface LearnOptions {
  simUrl: string;
  databaseUrl: string;
  /** Simulated hours to learn from, from the simulator's current time on (its clock is moved forward). */
  hours: number;
  /** The simulator's speed: its clock runs on between steps. */
  speed: number;
  configuredDomains: readonly string[];
  minViewers: number;
  muteMarginMs: number;
  log: Logger;
}

export interface LearnResult {
  vods: number;
  found: number;
  notFound: number;
  requests: number;
  /** Of those: the deep search's requests, and the VODs it found. */
  deepRequests: number;
  deepFound: number;
  streamers: number;
  realSeconds: number;
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function learnHours(o: LearnOptions): Promise<LearnResult> {
  const began = performance.now();
  const pool = createPool({ url: o.databaseUrl, max: 2, applicationName: "soak-learn" });
  const db = createDb(pool);
  // The simulator's time, read at each step and run on at its speed in between.
  let simAt = 0;
  let realAt = 0;
  const clock = {
    now: () => Math.floor(simAt + (performance.now() - realAt) * o.speed),
    realDelay: (ms: number) => ms / o.speed,
  };
  const setClock = async (body?: object) => {
    const c = await json<{ nowMs: number }>(`${o.simUrl}/admin/clock`, {
      method: body ? "POST" : "GET",
      ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
    });
    simAt = c.nowMs;
    realAt = performance.now();
  };
  await setClock();
  const from = clock.now();

  const knowledge = await DomainKnowledge.load(
    db,
    { halfLifeMs: 6 * 60 * MIN, failureThreshold: 3, cooldownMs: 2 * MIN },
    o.log,
  );
  // No budget: how many requests a VOD costs does not depend on the rate.
  const limiter = new RateLimiter({ perSecond: 5_000, floorPerSecond: 100, slackMsPerSecond: 0 });
  const http = new CdnHttp(limiter, {
    connectTimeoutMs: 5_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
  });
  const archives = new ArchiveLookup(
    {
      endpoint: `${o.simUrl}/gql`,
      clientId: "soak-learn",
      perSecond: 200,
      timeoutMs: 10_000,
      batchSize: 10,
      batchWaitMs: 5,
      cacheMs: 0,
    },
    o.log,
  );
  const fetcher = new VodFetcher(
    http,
    knowledge,
    clock,
    {
      domains: o.configuredDomains,
      urlTemplate: `${o.simUrl}/cdn/{domain}/`,
      retries: 1,
      backoffMs: 50,
      stopProbability: 0.03,
      discoverable: /^(d[a-z0-9]{8,20}\.cloudfront\.net|vod-[a-z0-9-]+\.twitch\.tv)$/,
      archives,
    },
    o.log,
  );
  const never = new AbortController().signal;
  setMaxListeners(1_000, never);

  const seen = new Set<string>();
  const streamers = new Set<string>();
  const result: LearnResult = {
    vods: 0,
    found: 0,
    notFound: 0,
    requests: 0,
    deepRequests: 0,
    deepFound: 0,
    streamers: 0,
    realSeconds: 0,
  };
  /** The deep search of one VOD, one request at a time in the order the fetcher's own deep search takes. */
  const deepSearch = async (request: VodFetchRequest, report: FetchReport): Promise<void> => {
    const owed = new FollowUps(DEEP);
    owed.apply(request, report, clock.now(), false);
    for (;;) {
      const pick = owed.nextDeep(clock.now(), (r) => fetcher.candidates(r));
      if (!pick) return;
      const { result: hit, missed } = await fetcher.probe(pick.request, pick.candidate, never, 0);
      result.deepRequests++;
      result.requests++;
      if (hit) {
        result.deepFound++;
        result.found++;
        result.notFound--;
        return;
      }
      if (!missed) return; // the domain failed: the deployment would try again later; learning moves on
      owed.deepMissed(pick.key, pick.candidate);
    }
  };
  try {
    for (let at = from + STEP; at <= from + o.hours * 60 * MIN; at += STEP) {
      if (clock.now() < at) await setClock({ set: at });
      else await setClock();
      const now = clock.now();
      const due: VodTruth[] = [];
      for (let offset = 0; ; offset += 5_000) {
        const page = await json<{ vods: VodTruth[] }>(
          `${o.simUrl}/admin/vods?state=ended&endedFrom=${now - 3 * 60 * MIN}&endedBefore=${now}&limit=5000&offset=${offset}`,
        );
        for (const v of page.vods) {
          const key = `${v.streamId}@${v.startTime}`;
          const dueTime = dueAt(v, o.muteMarginMs);
          if (seen.has(key) || v.peakViewers < o.minViewers || dueTime === null || dueTime > now) continue;
          seen.add(key);
          due.push(v);
        }
        if (page.vods.length < 5_000) break;
      }
      await knowledge.warm(due.map((v) => v.streamerId));
      const requests = due.map((v) => requestOf(v, o.muteMarginMs));
      const outcomes = await mapConcurrently(requests, 32, (r) => fetcher.run(r, never));
      for (const { result: r } of outcomes) {
        result.vods++;
        result.requests += r.requests;
        if (r.outcome === "found") result.found++;
        if (r.outcome === "not_found") result.notFound++;
        streamers.add(r.streamerId);
      }
      const stoppedEarly = outcomes.flatMap((report, i) => (report.deep ? [{ report, request: requests[i]! }] : []));
      await mapConcurrently(stoppedEarly, 32, ({ request, report }) => deepSearch(request, report));
      await knowledge.flush(db);
    }
  } finally {
    await limiter.stop();
    await http.close();
    await archives.stop();
    await pool.end();
  }
  result.streamers = streamers.size;
  result.realSeconds = Math.round((performance.now() - began) / 1000);
  return result;
}

/** The request the delay would have released for a VOD (a same-id restart flagged by its path's form). */
function requestOf(v: VodTruth, muteMarginMs: number): VodFetchRequest {
  return {
    v: 1,
    streamId: v.streamId,
    startTime: v.startTime,
    streamerId: v.streamerId,
    login: v.login,
    firstSeen: v.startTime,
    lastSeen: v.endedAt!,
    maxViewers: v.peakViewers,
    releaseAt: new Date(dueAt(v, muteMarginMs)!).toISOString(),
    restart: v.variant === "seconds",
  };
}
