/**
 * Shares of the realistic world over its second simulated day (the first lets new streamers build up),
 * among VODs that started that day and ended, and among those that reached 10 viewers:
 *
 *   node --expose-gc --import tsx packages/twitch-sim/bench/realistic.ts [--seed 1] [--streams 10000]
 *
 * Prints a table, then one JSON object as its last line. The README's realistic-world figures come from here.
 */
import { parseArgs } from "node:util";
import { onCdnAt, startSimulator, type VodTruth } from "../src/index.ts";

const { values } = parseArgs({
  options: { seed: { type: "string", default: "1" }, streams: { type: "string", default: "10000" } },
});
const seed = Number(values.seed);
const streams = Number(values.streams);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** About when the delay releases a VOD: the first mute run at least 5 min after the last sighting (or after the first sweep that missed it), plus 10 min. */
const FETCH_AFTER_END = HOUR;

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const started = performance.now();
const sim = await startSimulator({ seed, streams, world: "realistic", retainMs: 30 * HOUR });
const liveAtStart = sim.world.liveCount;
sim.clock.advance(DAY);
const from = sim.clock.now();
sim.clock.advance(DAY + 2 * HOUR);
const day = sim
  .vods({ state: "ended" })
  .filter((v) => Date.parse(v.startTime) >= from && Date.parse(v.startTime) < from + DAY);
const reached = day.filter((v) => v.peakViewers >= 10);
gc?.();
const heapMb = Math.round((process.memoryUsage().heapUsed - heapBefore) / 1e6);

const share = (xs: readonly VodTruth[], f: (v: VodTruth) => boolean) =>
  Math.round((xs.filter(f).length / xs.length) * 10_000) / 100;
const delays = day
  .filter((v) => v.listedAt !== null)
  .map((v) => (Date.parse(v.listedAt as string) - Date.parse(v.endedAt as string)) / 60_000)
  .sort((a, b) => a - b);
const at = (q: number) =>
  Math.round((delays[Math.min(delays.length - 1, Math.floor(delays.length * q))] ?? NaN) * 10) / 10;
const result = {
  seed,
  streams,
  vods: day.length,
  reached10: reached.length,
  offCdnAtFetch: share(reached, (v) => !onCdnAt(v, Date.parse(v.endedAt as string) + FETCH_AFTER_END)),
  archivingOff: share(reached, (v) => v.archivingOff),
  unsaved: share(reached, (v) => !v.saved),
  newStreamer: share(reached, (v) => v.newStreamer),
  scattered: share(reached, (v) => v.scattered),
  migratedHere: share(reached, (v) => v.migratedHere),
  migrated: share(reached, (v) => v.migrated),
  unconfiguredDomain: share(reached, (v) => v.unconfiguredDomain),
  hidden: share(reached, (v) => v.hidden),
  subOnly: share(reached, (v) => v.subOnly),
  sameIdRestart: share(reached, (v) => v.variant === "seconds"),
  falseStart: share(day, (v) => v.falseStart),
  listDelayMinutes: { min: at(0), median: at(0.5), p95: at(0.95), max: at(1) },
  liveAtStart,
  liveAtEnd: sim.world.liveCount,
  heapMb,
  ms: Math.round(performance.now() - started),
};
await sim.close();

console.log(`
## Realistic world (packages/twitch-sim/bench/realistic.ts --seed ${seed} --streams ${streams})

Second simulated day: ${result.vods} VODs started and ended, ${result.reached10} reached 10 viewers.
Shares among those that reached 10 viewers (false starts: among all VODs):

| measure | % |
|---|---|
| off the CDN an hour after the end | ${result.offCdnAtFetch} |
| streamer has archiving off | ${result.archivingOff} |
| not saved (any reason) | ${result.unsaved} |
| from a streamer under a day old | ${result.newStreamer} |
| scattered to another domain | ${result.scattered} |
| first session after a migration | ${result.migratedHere} |
| streamer migrated during the run | ${result.migrated} |
| on the unconfigured domain | ${result.unconfiguredDomain} |
| hidden | ${result.hidden} |
| sub-only | ${result.subOnly} |
| same-id restart (ts = seconds) | ${result.sameIdRestart} |
| false starts | ${result.falseStart} |

Listing delay after the end (min): min ${result.listDelayMinutes.min}, median ${result.listDelayMinutes.median}, p95 ${result.listDelayMinutes.p95}, max ${result.listDelayMinutes.max}.
Live streams ${result.liveAtStart} at the start, ${result.liveAtEnd} two days later; heap ${result.heapMb} MB; ${result.ms} ms.
`);
console.log(JSON.stringify(result));
