/**
 * Recover benchmark: `vods recover`'s search on 200 VODs drawn from the realistic simulator world's
 * truth (public, hidden, sub-only, on moved domains, and any others), each given as login + stream
 * id + the start time cut to the minute, against a brute-force baseline (−30…+59 s × 20 domains ×
 * 2 qualities, all fired). Every CDN request is counted by the simulator.
 *
 * Passes, one VOD at a time, each with its own run (budget, client):
 *   minute  — what the fetcher learned (streamer domains from the VODs before, domain scores) and GQL
 *   exact   — the same, start time to the second
 *   unknown — no streamer domain and GQL down (domain scores kept), VODs on the CDN only
 *   baseline
 *
 *   npm run bench:recover -- [--seed 7] [--streams 1500] [--vods 200]
 *
 * Last line: one JSON object with the figures.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { Agent, request } from "undici";
import { cdnDomainHealth, cdnStreamerDomains, createDb, createPool, runMigrations, type Db } from "@vod/db";
import { createGqlBatchClient, DEAD_VOD_DOMAINS, vodPath } from "@vod/twitch";
import { recover, NotFound, type RecoverOptions } from "@vod/recover";
import {
  onCdnAt,
  REALISTIC_CONFIGURED_DOMAINS,
  REALISTIC_DOMAINS,
  REALISTIC_RATES,
  startSimulator,
  UNCONFIGURED_DOMAIN,
  type VodTruth,
} from "@vod/twitch-sim";
import { benchEnv, ensureInfra } from "./env.ts";

await ensureInfra(["postgres"]);

const { values: args } = parseArgs({
  options: {
    seed: { type: "string", default: "7" },
    streams: { type: "string", default: "1500" },
    vods: { type: "string", default: "200" },
    concurrency: { type: "string", default: "8" },
  },
});
const SEED = Number(args.seed);
const STREAMS = Number(args.streams);
const VODS = Number(args.vods);
const CONCURRENCY = Number(args.concurrency);
const HOUR = 3_600_000;
const started = performance.now();

// ---- the world: a day and a half, so streamers have history and the 12 h window is full.
const sim = await startSimulator({
  seed: SEED,
  streams: STREAMS,
  world: "realistic",
  rates: REALISTIC_RATES,
  domains: REALISTIC_DOMAINS,
});
for (let h = 0; h < 30; h++) sim.clock.advance(HOUR);
const now = sim.clock.now();

// ---- the 200 VODs: ended 1–10 h ago (muted, listed if ever), reached 10 viewers.
const candidates = sim
  .vods({ state: "ended", endedFrom: now - 10 * HOUR, endedBefore: now - HOUR })
  .filter((v) => v.peakViewers >= 10);
let seed = SEED * 2654435761;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
const shuffled = candidates
  .map((v) => ({ v, r: random() }))
  .sort((a, b) => a.r - b.r)
  .map((x) => x.v);
const moved = (v: VodTruth) => v.scattered || v.migrated || v.unconfiguredDomain;
const strata: [string, (v: VodTruth) => boolean, number][] = [
  ["hidden", (v) => v.hidden, 0.2],
  ["sub-only", (v) => v.subOnly && !v.hidden, 0.2],
  ["moved domain", (v) => moved(v) && !v.hidden && !v.subOnly, 0.2],
  ["public", (v) => v.public && !moved(v) && !v.subOnly, 0.2],
];
const chosen: VodTruth[] = [];
const taken = new Set<string>();
const keyOf = (v: VodTruth) => `${v.streamId}|${v.startTime}`;
for (const [, test, share] of strata) {
  for (const v of shuffled.filter(test).slice(0, Math.round(VODS * share))) {
    chosen.push(v);
    taken.add(keyOf(v));
  }
}
// The rest at random, off-CDN ones (archiving off, deleted) included, as they come.
for (const v of shuffled) {
  if (chosen.length >= VODS) break;
  if (taken.has(keyOf(v))) continue;
  chosen.push(v);
  taken.add(keyOf(v));
}
const stratumOf = (v: VodTruth) => strata.find(([, test]) => test(v))?.[0] ?? "other";

// ---- what the fetcher would have learned: each streamer's domain from its last VOD on the CDN
// before this one, and domain scores from the hits of the last 12 h (half-life 6 h).
const database = await freshDb();
const db = database.db;
const streamerRows = new Map<string, string>();
for (const v of chosen) {
  const before = sim
    .vods({ login: v.login })
    .filter(
      (o) => !o.live && Date.parse(o.startTime) < Date.parse(v.startTime) && onCdnAt(o, Date.parse(o.endedAt!) + HOUR),
    )
    .sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime));
  if (before[0]) streamerRows.set(v.streamerId, before[0].domain);
}
if (streamerRows.size > 0) {
  await db.insert(cdnStreamerDomains).values(
    [...streamerRows].map(([id, domain]) => ({
      streamerId: Number(id),
      domain,
      foundCount: 1,
      foundAt: new Date(now),
    })),
  );
}
const scores = new Map<string, number>();
for (const o of sim
  .vods({ state: "ended", endedFrom: now - 12 * HOUR, endedBefore: now - HOUR })
  .filter((o) => o.peakViewers >= 10 && onCdnAt(o, Date.parse(o.endedAt!) + HOUR))) {
  scores.set(o.domain, (scores.get(o.domain) ?? 0) + 2 ** (-(now - Date.parse(o.endedAt!) - HOUR) / (6 * HOUR)));
}
await db.insert(cdnDomainHealth).values(
  [...scores].map(([domain, score]) => ({
    domain,
    score,
    scoredAt: new Date(now),
    ...(domain === UNCONFIGURED_DOMAIN ? { discoveredAt: new Date(now - 12 * HOUR), discoveredFrom: "bench" } : {}),
  })),
);

const baseOptions = (over: Partial<RecoverOptions>): RecoverOptions => ({
  domains: REALISTIC_CONFIGURED_DOMAINS,
  urlTemplate: sim.cdnUrlTemplate,
  discoverable: /^(d[a-z0-9]{8,20}\.cloudfront\.net|vod-[a-z0-9-]+\.twitch\.tv)$/,
  apiUrl: "http://127.0.0.1:8080",
  scoreHalfLifeMs: 6 * HOUR,
  // The command's defaults but the budget: a VOD needing more than 500 requests would wait out the
  // 5-minute window, which changes its wall time, not its requests; the figures say how many would.
  cdn: {
    concurrency: CONCURRENCY,
    budget: 1_000_000,
    windowMs: 5 * 60_000,
    connectTimeoutMs: 3_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 10_000,
    requestTimeoutMs: 15_000,
  },
  db,
  gql: createGqlBatchClient({ endpoint: sim.gqlUrl, clientId: "bench", timeoutMs: 5_000 }),
  now: () => sim.clock.now(),
  ...over,
});

interface Tally {
  v: VodTruth;
  onCdn: boolean;
  found: boolean;
  falseHit: boolean;
  url: string | null;
  /** Answered "ambiguous" (two same-id restarts with seconds-field paths), naming the right VOD among others. */
  ambiguous: boolean;
  requests: number;
  seconds: number;
  source: string;
}

async function pass(
  name: string,
  vods: readonly VodTruth[],
  precision: "minute" | "second",
  over: Partial<RecoverOptions>,
): Promise<Tally[]> {
  const out: Tally[] = [];
  const t0 = performance.now();
  for (const v of vods) {
    const startMs = Date.parse(v.startTime);
    const time = precision === "minute" ? { ms: startMs - (startMs % 60_000), precision } : { ms: startMs, precision };
    sim.resetStats();
    const t = performance.now();
    let url: string | null = null;
    let source = "none";
    let ambiguous = false;
    try {
      const r = await recover({ from: "flags", login: v.login, streamId: v.streamId }, time, baseOptions(over));
      url = r.cdnUrl;
      source = r.source;
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      ambiguous = err.message.startsWith("ambiguous:") && err.message.includes(v.path);
    }
    const seconds = (performance.now() - t) / 1000;
    const onCdn = onCdnAt(v, sim.clock.now());
    out.push({
      v,
      onCdn,
      url,
      ambiguous,
      found: url !== null,
      falseHit: url !== null && url !== sim.playlistUrl(v),
      requests: sim.stats().cdn.requests,
      seconds,
      source,
    });
  }
  console.error(`${name}: ${vods.length} VODs in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return out;
}

/** The streamer's domain is known to our archive, or its listing names one (GQL answered with videos). */
async function domainKnown(v: VodTruth): Promise<boolean> {
  if (streamerRows.has(v.streamerId)) return true;
  const res = await fetch(sim.gqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "Client-ID": "bench" },
    body: JSON.stringify({
      query:
        "query($l: String!) { user(login: $l) { videos(first: 1, type: ARCHIVE, sort: TIME) { edges { node { id } } } } }",
      variables: { l: v.login },
    }),
  });
  const body = (await res.json()) as { data?: { user?: { videos?: { edges?: unknown[] } } } };
  return (body.data?.user?.videos?.edges?.length ?? 0) > 0;
}

const minute = await pass("minute", chosen, "minute", {});
const knownFlags = new Map<string, boolean>();
for (const v of chosen) knownFlags.set(keyOf(v), await domainKnown(v));
const exact = await pass("exact", chosen, "second", {});
const unknownVods = chosen.filter((v) => onCdnAt(v, sim.clock.now()));
// Nothing known about the streamer: its domain row gone (domain scores kept), no GQL.
await db.delete(cdnStreamerDomains);
const unknown = await pass("unknown", unknownVods, "minute", { gql: undefined });

// ---- the baseline: every (offset −30…+59 s, domain of 20, quality of 2), fired at once, as public tools do.
const BASE_DOMAINS = [...REALISTIC_DOMAINS, ...DEAD_VOD_DOMAINS].slice(0, 20);
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
const baseline: { requests: number; found: boolean }[] = [];
const tb = performance.now();
for (const v of chosen) {
  const startMs = Date.parse(v.startTime);
  const m = Math.floor((startMs - (startMs % 60_000)) / 1000);
  const urls: string[] = [];
  for (let off = -30; off <= 59; off++)
    for (const d of BASE_DOMAINS)
      for (const q of ["chunked", "720p60"]) urls.push(sim.cdnBaseUrl(d) + vodPath(v.login, v.streamId, m + off, q));
  sim.resetStats();
  let found = false;
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < urls.length) {
        const u = urls[next++]!;
        for (let attempt = 0; attempt < 5; attempt++) {
          const res = await request(u, { dispatcher: agent }).catch(() => null);
          if (!res) continue;
          const body = await res.body.text();
          if (res.statusCode === 200 && body.startsWith("#EXTM3U")) found = true;
          if (res.statusCode < 500) break;
        }
      }
    }),
  );
  baseline.push({ requests: sim.stats().cdn.requests, found });
}
await agent.close();
console.error(`baseline: ${chosen.length} VODs in ${((performance.now() - tb) / 1000).toFixed(0)} s`);

await database.drop();
await sim.close();

// ---- figures
const median = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number | null, d = 3) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);
const onCdn = minute.filter((t) => t.onCdn);
const found = onCdn.filter((t) => t.found && !t.falseHit).length;
const falseHits = [...minute, ...exact, ...unknown].filter((t) => t.falseHit || (t.found && !t.onCdn)).length;
const knownOnCdn = onCdn.filter((t) => knownFlags.get(keyOf(t.v)));
const figures = {
  vods: chosen.length,
  onCdn: onCdn.length,
  found,
  ambiguous: onCdn.filter((t) => t.ambiguous).length,
  recall: round(found / Math.max(1, onCdn.length), 4),
  falseHits,
  medianSeconds: round(median(onCdn.map((t) => t.seconds))),
  medianRequestsKnown: median(knownOnCdn.map((t) => t.requests)),
  medianRequestsUnknown: median(unknown.map((t) => t.requests)),
  medianRequestsExact: median(exact.filter((t) => t.onCdn).map((t) => t.requests)),
  baselineRequestsMedian: median(baseline.map((b) => b.requests)),
};

const by = (rows: Tally[], f: (t: Tally) => string) => {
  const m = new Map<string, Tally[]>();
  for (const t of rows) m.set(f(t), [...(m.get(f(t)) ?? []), t]);
  return [...m].sort((a, b) => b[1].length - a[1].length);
};
const line = (label: string, rows: Tally[]) => {
  const on = rows.filter((t) => t.onCdn);
  return `| ${label} | ${rows.length} | ${on.length} | ${on.filter((t) => t.found && !t.falseHit).length} | ${median(on.map((t) => t.requests)) ?? "–"} | ${Math.max(0, ...on.map((t) => t.requests))} | ${round(median(on.map((t) => t.seconds))) ?? "–"} |`;
};
const header =
  "| VODs | drawn | on the CDN | found | median requests | max requests | median s |\n|---|---|---|---|---|---|---|";
console.log(`
## Recover (npm run bench:recover -- --seed ${SEED} --streams ${STREAMS} --vods ${VODS})

Realistic world, seed ${SEED}, about ${STREAMS} live streams, after 30 simulated hours; ${chosen.length} VODs that reached
10 viewers and ended 1–10 h before, each given as login + stream id + start time cut to the minute. Knowledge as
the fetcher would hold it: ${streamerRows.size} of the streamers have a domain from an earlier VOD, domain scores
from the last 12 h of hits. Requests counted by the simulator, one VOD at a time, ${CONCURRENCY} in flight at most.

Minute precision, what the fetcher learned and GQL:
${header}
${by(minute, (t) => stratumOf(t.v))
  .map(([k, rows]) => line(k, rows))
  .join("\n")}
${line("all", minute)}

By source (minute): ${by(
  minute.filter((t) => t.onCdn),
  (t) => t.source,
)
  .map(([k, rows]) => `${k} ${rows.length} (median ${median(rows.map((t) => t.requests))} requests)`)
  .join(", ")}.
Ambiguous (two same-id restarts with seconds-field paths; the answer names this VOD among them): ${figures.ambiguous}.
Exact seconds: median ${figures.medianRequestsExact} requests, max ${Math.max(0, ...exact.filter((t) => t.onCdn).map((t) => t.requests))}.
Nothing known (no streamer domain, GQL down), ${unknown.length} VODs on the CDN: median ${figures.medianRequestsUnknown} requests, max ${Math.max(0, ...unknown.map((t) => t.requests))}, found ${unknown.filter((t) => t.found && !t.falseHit).length}.
Over the 500-request budget (they would wait for the next 5-minute window): ${[...minute, ...exact, ...unknown].filter((t) => t.requests > 500 && t.onCdn).length} searches of a VOD on the CDN.
Not on the CDN (${minute.length - onCdn.length}): median ${median(minute.filter((t) => !t.onCdn).map((t) => t.requests)) ?? "–"} requests to a clear not found.
Baseline (−30…+59 s × 20 domains × 2 qualities): median ${figures.baselineRequestsMedian} requests, found ${baseline.filter((b) => b.found).length}.
Took ${((performance.now() - started) / 1000).toFixed(0)} s.
`);
const describeVod = (t: Tally) =>
  `${t.v.login} ${t.v.streamId} ${t.v.startTime} ${t.v.variant} on ${t.v.domain}${t.v.hidden ? " hidden" : ""}${moved(t.v) ? " moved" : ""}: ${t.found ? `found ${t.url}` : t.ambiguous ? "ambiguous (named among others)" : "not found"}, ${t.requests} requests`;
for (const t of [...minute, ...exact, ...unknown].filter(
  (t) => (t.onCdn && !t.found) || t.falseHit || (t.found && !t.onCdn),
))
  console.error(`miss or false hit: ${describeVod(t)}`);
console.log(JSON.stringify(figures));

async function freshDb(): Promise<{ db: Db; url: string; drop: () => Promise<void> }> {
  const name = `bench_recover_${process.pid}`;
  const admin = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(benchEnv.DATABASE_URL);
  url.pathname = `/${name}`;
  const p = createPool({ url: url.toString(), max: 2 });
  const d = createDb(p);
  await runMigrations(d);
  return {
    db: d,
    url: url.toString(),
    drop: async () => {
      await p.end();
      const c = new pg.Client({ connectionString: benchEnv.DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
