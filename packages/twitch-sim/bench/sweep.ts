/**
 * Full sweep of the live list at scale: builds a world of N live streams, pages through
 * `streams` 30 at a time over HTTP the way the live poller does, and records time and memory.
 *
 *   npx tsx packages/twitch-sim/bench/sweep.ts [--streams 100000] [--speed 60] [--out file.json]
 *   npx tsx packages/twitch-sim/bench/sweep.ts --url http://127.0.0.1:8900   (a simulator started by `npm run sim`)
 *
 * Without --speed the clock is virtual and frozen (no drift: every stream once); with it the
 * clock runs sped up and the index is rebuilt every viewer tick while the sweep runs.
 */
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { startSimulator } from "../src/index.ts";
import { LIVE_STREAMS_QUERY, liveStreamsVariables, TWITCH_WEB_CLIENT_ID } from "@vod/twitch";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "100000" },
    speed: { type: "string" },
    seed: { type: "string", default: "1" },
    out: { type: "string" },
    url: { type: "string" },
  },
});
const streams = Number(values.streams);
const speed = values.speed === undefined ? undefined : Number(values.speed);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

interface Target {
  gqlUrl: string;
  live: number;
  streamers: number;
  indexBuilds(): Promise<number>;
  memory(): Promise<NodeJS.MemoryUsage>;
  close(): Promise<void>;
}

const memBefore = process.memoryUsage();
let t0 = performance.now();
let target: Target;
if (values.url) {
  const world = async () =>
    (await (await fetch(`${values.url}/admin/world`)).json()) as {
      live: number;
      streamers: number;
      indexBuilds: number;
      memory: NodeJS.MemoryUsage;
    };
  const w = await world();
  target = {
    gqlUrl: `${values.url}/gql`,
    live: w.live,
    streamers: w.streamers,
    indexBuilds: async () => (await world()).indexBuilds,
    memory: async () => (await world()).memory,
    close: async () => {},
  };
} else {
  const sim = await startSimulator({ streams, seed: Number(values.seed), speed });
  target = {
    gqlUrl: sim.gqlUrl,
    live: sim.world.liveCount,
    streamers: sim.world.streamers.length,
    indexBuilds: async () => sim.world.indexBuilds,
    memory: async () => process.memoryUsage(),
    close: () => sim.close(),
  };
}
const startupMs = values.url ? 0 : performance.now() - t0;
global.gc?.();
const memWorld = await target.memory();
const live = target.live;

const dispatcher = new Agent({ connections: 1, pipelining: 1 });
interface Page {
  data?: { streams: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean } } | null };
}
const ids: string[] = [];
const latencies: number[] = [];
let after: string | undefined;
let pages = 0;
const buildsBefore = await target.indexBuilds();
t0 = performance.now();
for (;;) {
  const t = performance.now();
  const res = await request(target.gqlUrl, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json", "client-id": TWITCH_WEB_CLIENT_ID },
    body: JSON.stringify({ query: LIVE_STREAMS_QUERY, variables: liveStreamsVariables(30, after ?? null) }),
  });
  const body = (await res.body.json()) as Page;
  latencies.push(performance.now() - t);
  pages++;
  const page = body.data?.streams;
  if (!page) throw new Error(`page ${pages} failed: ${JSON.stringify(body).slice(0, 200)}`);
  for (const e of page.edges) ids.push(e.node.id);
  if (!page.pageInfo.hasNextPage || page.edges.length === 0) break;
  after = page.edges.at(-1)?.cursor;
}
const sweepMs = performance.now() - t0;
const memSweep = await target.memory();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;

const result = {
  when: new Date().toISOString(),
  node: process.version,
  streams: values.url ? live : streams,
  target: values.url ? `external ${values.url}` : "in-process",
  clock: values.url ? "as configured" : speed === undefined ? "virtual (frozen)" : `real x${speed}`,
  liveAtStart: live,
  streamersInWorld: target.streamers,
  startupMs: Math.round(startupMs),
  sweep: {
    pages,
    streamsSeen: ids.length,
    distinct: new Set(ids).size,
    ms: Math.round(sweepMs),
    pagesPerSecond: Math.round((pages / sweepMs) * 1000),
    pageLatencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) },
    indexRebuilds: (await target.indexBuilds()) - buildsBefore,
  },
  memoryMb: {
    heapBefore: values.url ? null : mb(memBefore.heapUsed),
    heapAfterWorld: mb(memWorld.heapUsed),
    rssAfterWorld: mb(memWorld.rss),
    heapAfterSweep: mb(memSweep.heapUsed),
    rssAfterSweep: mb(memSweep.rss),
  },
};
await dispatcher.close();
await target.close();
console.log(JSON.stringify(result, null, 2));
const out =
  values.out ??
  resolve(
    dirname(fileURLToPath(import.meta.url)),
    `sweep-${values.url ? "external" : streams}${speed ? `-x${speed}` : ""}.json`,
  );
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.error(`wrote ${out}`);
