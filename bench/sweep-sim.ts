/**
 * The simulator side of `npm run bench:sweep`, run as its own process so the poller's memory and
 * CPU are measured apart: a Twitch-shaped world (REALISTIC_RATES) on a real clock, GQL latency
 * injected. Prints `{"url"}` once listening; then answers each line on stdin ("truth <min>") with
 * the ground truth as one JSON line.
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { REALISTIC_RATES, startSimulator } from "@vod/twitch-sim";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "100000" },
    seed: { type: "string", default: "1" },
    "latency-ms": { type: "string", default: "150" },
    "track-min": { type: "string", default: "5" },
    "archive-min": { type: "string", default: "10" },
  },
});
const latency = Number(values["latency-ms"]);
const sim = await startSimulator({
  streams: Number(values.streams),
  seed: Number(values.seed),
  speed: 1,
  rates: REALISTIC_RATES,
  faults: latency > 0 ? [{ kind: "latency", target: "gql", ms: latency }] : [],
});
const track = Number(values["track-min"]);
const archive = Number(values["archive-min"]);
process.stdout.write(`${JSON.stringify({ url: sim.url, gqlUrl: sim.gqlUrl })}\n`);

/** Streamers live now at or above the tracking threshold (and their viewers), with counts at both thresholds. */
function truth() {
  let live = 0;
  let atOrAboveMin = 0;
  const tracked: string[] = [];
  const viewers: number[] = [];
  for (let off = 0; ; off += 1000) {
    const page = sim.world.page(off, 1000);
    for (const it of page.items) {
      live++;
      if (it.viewers >= archive) atOrAboveMin++;
      if (it.viewers >= track) {
        tracked.push(`${it.streamer.id}:${it.vod.streamId}`);
        viewers.push(it.viewers);
      }
    }
    if (!page.hasNextPage) break;
  }
  return { at: Date.now(), live, atOrAboveMin, tracked, viewers, rssMb: Math.round(process.memoryUsage().rss / 1e6) };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "truth") process.stdout.write(`${JSON.stringify(truth())}\n`);
  if (line.trim() === "quit") break;
}
await sim.close();
process.exit(0);
