/**
 * Sweep benchmark: the real live-poller (Kafka producer, limiter, shards, batches) against the
 * simulator in its own process, on a real clock, in a Twitch-shaped world, with GQL latency.
 *
 *   npm run bench:sweep -- --streams 100000 --gql-latency 150ms --gql-rate 3 [--sweeps 3] [--batch 10] [--drift-margin 0.15] [--no-restart]
 *
 * The first sweep of a fresh deployment has no saved cursors, so each shard is one chain; later
 * sweeps cut shards into segments. Then the poller is restarted (unless --no-restart) and its first
 * sweep cut at the cursors the last one saved. Every sweep's figures are printed; the LAST line is
 * the last sweep's (after the restart).
 * coverage = streams at or above TRACK_MIN_VIEWERS both when the sweep started and when it ended
 * (same stream, still live) that the sweep published, over all of them.
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serviceNodeFlags } from "@vod/cli";
import { parseDuration } from "@vod/config";
import type { StreamSnapshot, SweepMarker } from "@vod/kafka";
import { createLogger } from "@vod/log";
import { readEnv, start } from "@vod/live-poller";
import { benchEnv, ensureInfra } from "./env.ts";

await ensureInfra(["kafka"]);

// The poller runs in this process: give it the node flags it runs with in production (its package.json).
const pollerFlags = serviceNodeFlags(fileURLToPath(new URL("..", import.meta.url)), "services/live-poller/src/main.ts");
if (!pollerFlags.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(process.execPath, [...pollerFlags, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "100000" },
    "gql-latency": { type: "string", default: "150ms" },
    "gql-rate": { type: "string", default: "3" },
    sweeps: { type: "string", default: "3" },
    batch: { type: "string" },
    seed: { type: "string", default: "1" },
    "drift-margin": { type: "string" },
    /** Topic prefix; reuse one to start from the cursors an earlier run of the same world saved. */
    prefix: { type: "string" },
    "no-restart": { type: "boolean", default: false },
  },
});
const latencyMs = parseDuration(values["gql-latency"]) ?? Number(values["gql-latency"]);
const sweeps = Number(values.sweeps);
const restart = !values["no-restart"];
const TRACK = 5;
const MIN = 10;

// ---- the simulator, its own process ------------------------------------------------------------
const simChild = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    fileURLToPath(new URL("./sweep-sim.ts", import.meta.url)),
    "--streams",
    values.streams,
    "--seed",
    values.seed,
    "--latency-ms",
    String(latencyMs),
    "--track-min",
    String(TRACK),
    "--archive-min",
    String(MIN),
  ],
  { stdio: ["pipe", "pipe", "inherit"] },
);
const lines = createInterface({ input: simChild.stdout })[Symbol.asyncIterator]();
const nextLine = async (): Promise<string> => {
  const r = await lines.next();
  if (r.done) throw new Error("the simulator process ended");
  return r.value;
};
interface Truth {
  at: number;
  live: number;
  atOrAboveMin: number;
  tracked: string[];
  /** Viewers of each tracked stream, in the same order. */
  viewers: number[];
  rssMb: number;
}
let truthQueue = Promise.resolve();
const truth = (): Promise<Truth> => {
  const p = truthQueue.then(async () => {
    simChild.stdin.write("truth\n");
    return JSON.parse(await nextLine()) as Truth;
  });
  truthQueue = p.then(() => undefined);
  return p;
};
const simStartedAt = performance.now();
const { gqlUrl } = JSON.parse(await nextLine()) as { gqlUrl: string };
console.error(`simulator up in ${Math.round(performance.now() - simStartedAt)} ms: ${gqlUrl}`);

// ---- the poller, in this process ---------------------------------------------------------------
const prefix = values.prefix ?? `bench-sweep-${Date.now().toString(36)}.`;
const env = readEnv({
  KAFKA_BROKERS: benchEnv.KAFKA_BROKERS.join(","),
  TOPIC_PREFIX: prefix,
  OPS_PORT: "0",
  LOG_LEVEL: "warn",
  GQL_ENDPOINT: gqlUrl,
  GQL_RATE: values["gql-rate"],
  TRACK_MIN_VIEWERS: String(TRACK),
  MIN_VIEWERS: String(MIN),
  SWEEP_INTERVAL: "5s",
  ...(values.batch ? { GQL_BATCH: values.batch } : {}),
  ...(values["drift-margin"] ? { DRIFT_MARGIN: values["drift-margin"] } : {}),
});
const log = createLogger({ service: "bench-sweep", level: "warn" });
// POSTs as they leave the poller's limiter: the rate the endpoint sees.
const posts: number[] = [];
let rssMax = 0;
const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 200);
const boundaries: { truth: Promise<Truth>; realStart: number }[] = [{ truth: truth(), realStart: performance.now() }];
await boundaries[0]!.truth;
// What Kafka acknowledged, seen in this process: reading ~100,000 snapshots back costs minutes here.
const markers: SweepMarker[] = [];
const seenBySweep = new Map<string, Set<string>>();
const recheckBySweep = new Map<string, { asked: number; published: number; unanswered: number }>();
const hooks = {
  onPost: () => posts.push(performance.now()),
  onSweep: (info: { sweepId: string; recheck: { asked: number; published: number; unanswered: number } }) =>
    void recheckBySweep.set(info.sweepId, info.recheck),
  onPublished: (event: { snapshots: StreamSnapshot[] } | { marker: SweepMarker }) => {
    if ("marker" in event) return void markers.push(event.marker);
    for (const s of event.snapshots) {
      let seen = seenBySweep.get(s.sweepId);
      if (!seen) seenBySweep.set(s.sweepId, (seen = new Set()));
      seen.add(`${s.streamerId}:${s.streamId}`);
    }
  },
};
let poller = await start(env, log, undefined, hooks);
boundaries[0]!.realStart = Math.min(performance.now(), posts[0] ?? Infinity);
const ends: { truth: Truth; realEnd: number; rssMb: number; marker: SweepMarker | undefined }[] = [];
/** Judges sweep i as soon as it ended, against the truth at its start and end. */
async function summarize(i: number) {
  const marker = ends[i]!.marker;
  const begin = await boundaries[i]!.truth;
  const end = ends[i]!;
  const seen = seenBySweep.get(marker?.sweepId ?? "") ?? new Set<string>();
  const endViewers = new Map(end.truth.tracked.map((id, k) => [id, end.truth.viewers[k] as number]));
  const beginViewers = new Map(begin.tracked.map((id, k) => [id, begin.viewers[k] as number]));
  const stable = begin.tracked.filter((id) => endViewers.has(id));
  const covered = stable.filter((id) => seen.has(id)).length;
  // Where the misses sit: within a fifth of the threshold (a count that may have dipped under it
  // while its page was read) or well above it (skipped by drift).
  const missed = stable.filter((id) => !seen.has(id));
  const nearThreshold = missed.filter(
    (id) => Math.min(beginViewers.get(id) ?? 0, endViewers.get(id) ?? 0) < TRACK * 1.2,
  ).length;
  const bands = [5, 6, 8, 10, 20, 50, 100, Infinity];
  const missedByViewers: Record<string, number> = {};
  for (const id of missed) {
    const v = endViewers.get(id) ?? 0;
    const b = bands.findIndex((x, k) => v >= x && v < (bands[k + 1] as number));
    const label =
      b < 0 ? "?" : bands[b + 1] === Infinity ? `${bands[b]}+` : `${bands[b]}-${(bands[b + 1] as number) - 1}`;
    missedByViewers[label] = (missedByViewers[label] ?? 0) + 1;
  }
  const from = boundaries[i]!.realStart;
  const inSweep = posts.filter((t) => t >= from && t <= end.realEnd);
  let perSecondMax = 0;
  for (let a = 0, b = 0; b < inSweep.length; b++) {
    while ((inSweep[b] as number) - (inSweep[a] as number) >= 1000) a++;
    perSecondMax = Math.max(perSecondMax, b - a + 1);
  }
  const result = {
    sweep: i + 1,
    kind:
      i === 0
        ? values.prefix
          ? "first (cursors saved by an earlier run)"
          : "first start (nothing saved)"
        : i === sweeps
          ? "after a restart"
          : "warm",
    streamsLive: begin.live,
    streamsAtOrAboveMin: begin.atOrAboveMin,
    streamsAtOrAboveTrack: begin.tracked.length,
    seen: seen.size,
    coverage: Math.round((covered / Math.max(1, stable.length)) * 10000) / 10000,
    missed: missed.length,
    missedNearThreshold: nearThreshold,
    missedByViewers,
    recheck: recheckBySweep.get(marker?.sweepId ?? "") ?? null,
    seconds: Math.round((end.realEnd - from) / 100) / 10,
    posts: inSweep.length,
    postsPerSecondMax: perSecondMax,
    complete: marker?.complete ?? false,
    reason: marker?.reason ?? null,
    rssMb: end.rssMb,
    simRssMb: end.truth.rssMb,
  };
  // Each sweep's record of what it published is dropped once judged: the bench's own memory stays one sweep's.
  seenBySweep.delete(marker?.sweepId ?? "");
  const judged: Truth = { at: 0, live: 0, atOrAboveMin: 0, tracked: [], viewers: [], rssMb: 0 };
  end.truth = judged;
  boundaries[i]!.truth = Promise.resolve(judged);
  return result;
}

const summaries: Promise<Awaited<ReturnType<typeof summarize>>>[] = [];
/** The sweeps of one poller process, counted from the start of the run. */
const sweepUntil = async (total: number, before: number): Promise<void> => {
  while (ends.length < total) {
    await new Promise((r) => setTimeout(r, 50));
    if (before + poller.sweeps > ends.length) {
      const realEnd = performance.now();
      const rssMb = Math.round(rssMax / 1e6);
      rssMax = process.memoryUsage().rss;
      // The marker of the sweep that just ended (a poller that is closed also marks its cut sweep).
      const marker = markers.at(-1);
      ends.push({ truth: await truth(), realEnd, rssMb, marker });
      summaries.push(summarize(ends.length - 1));
      // The next sweep starts SWEEP_INTERVAL after this one started, or at once if it overran.
      if (ends.length < total) boundaries.push({ truth: truth(), realStart: realEnd });
    }
  }
};
await sweepUntil(sweeps, 0);
if (restart) {
  // A restart: a new poller reads the cursors the last one saved and cuts its first sweep at them.
  await poller.close();
  const restartAt = performance.now();
  boundaries.push({ truth: truth(), realStart: restartAt });
  await boundaries.at(-1)!.truth;
  poller = await start(env, log, undefined, hooks);
  await sweepUntil(sweeps + 1, sweeps);
}
clearInterval(sampler);
await poller.close();
simChild.stdin.write("quit\n");

const results = await Promise.all(summaries);
for (const r of results.slice(0, -1)) console.log(JSON.stringify(r));
const last = results.at(-1)!;
const {
  streamsLive,
  streamsAtOrAboveMin,
  streamsAtOrAboveTrack,
  seen,
  coverage,
  seconds,
  postsPerSecondMax,
  complete,
  rssMb,
} = last;
console.log(`last sweep: ${JSON.stringify(last)}`);
console.log(
  JSON.stringify({
    streamsLive,
    streamsAtOrAboveMin,
    streamsAtOrAboveTrack,
    seen,
    coverage,
    seconds,
    postsPerSecondMax,
    complete,
    rssMb,
  }),
);
process.exit(0);
