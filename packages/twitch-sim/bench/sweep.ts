/**
 * Full sweep of the live list at scale: builds a world of N live streams, pages through
 * `streams` 30 at a time over HTTP the way the live poller does, and records time and memory.
 *
 *   npx tsx packages/twitch-sim/bench/sweep.ts [--streams 100000] [--speed 60] [--out file.json]
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
import { STREAMS_PAGE } from "../src/queries.ts";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "100000" },
    speed: { type: "string" },
    seed: { type: "string", default: "1" },
    out: { type: "string" },
  },
});
const streams = Number(values.streams);
const speed = values.speed === undefined ? undefined : Number(values.speed);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

const memBefore = process.memoryUsage();
let t0 = performance.now();
const sim = await startSimulator({ streams, seed: Number(values.seed), speed });
const startupMs = performance.now() - t0;
global.gc?.();
const memWorld = process.memoryUsage();
const live = sim.world.liveCount;

const dispatcher = new Agent({ connections: 1, pipelining: 1 });
interface Page {
  data?: { streams: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean } } | null };
}
const ids: string[] = [];
const latencies: number[] = [];
let after: string | undefined;
let pages = 0;
const buildsBefore = sim.world.indexBuilds;
t0 = performance.now();
for (;;) {
  const t = performance.now();
  const res = await request(sim.gqlUrl, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json", "client-id": "kimne78kx3ncx6brgo4mv6wki5h1ko" },
    body: JSON.stringify({ query: STREAMS_PAGE, variables: { first: 30, after } }),
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
const memSweep = process.memoryUsage();
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;

const result = {
  when: new Date().toISOString(),
  node: process.version,
  streams,
  clock: speed === undefined ? "virtual (frozen)" : `real x${speed}`,
  liveAtStart: live,
  streamersInWorld: sim.world.streamers.length,
  startupMs: Math.round(startupMs),
  sweep: {
    pages,
    streamsSeen: ids.length,
    distinct: new Set(ids).size,
    ms: Math.round(sweepMs),
    pagesPerSecond: Math.round((pages / sweepMs) * 1000),
    pageLatencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) },
    indexRebuilds: sim.world.indexBuilds - buildsBefore,
  },
  memoryMb: {
    heapBefore: mb(memBefore.heapUsed),
    heapAfterWorld: mb(memWorld.heapUsed),
    rssAfterWorld: mb(memWorld.rss),
    heapAfterSweep: mb(memSweep.heapUsed),
    rssAfterSweep: mb(memSweep.rss),
  },
};
await dispatcher.close();
await sim.close();
console.log(JSON.stringify(result, null, 2));
const out = values.out ?? resolve(dirname(fileURLToPath(import.meta.url)), `sweep-${streams}${speed ? `-x${speed}` : ""}.json`);
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.error(`wrote ${out}`);
