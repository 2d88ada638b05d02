import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VodFetchResult } from "@vod/kafka";
import {
  absolutePlaylist,
  cdnDomains,
  readTopic,
  restarted,
  scriptedSimulator,
  streamer,
  resultsByKey,
  uniqueName,
  vodKey as keyOf,
  vodRequest,
} from "@vod/testing";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import type { RunningFetcher } from "@vod/hls-fetcher";
import { EXHAUSTIVE, fetcherWorld, SHORT_TIMEOUTS, type FetcherWorld } from "./fixtures/fetcher.ts";

// Four domains keep a cold fetch at 12 candidates at most, so the file runs in about a minute at 3 requests/s.
const DOMAINS = cdnDomains(4);
const [D0, D1, D2, D3] = DOMAINS;
const RATE = 3;

let world: FetcherWorld;
let sim: Simulator;
let groupId: string;
let fetcher: RunningFetcher | undefined;
let resultsSeen = 0;

beforeAll(async () => {
  sim = await scriptedSimulator(
    2024,
    DOMAINS,
    [
      streamer("minus_one", "2001", D2, [{ start: "+10m", duration: "40m", variant: "minus1", muted: [[1, 3]] }], {
        viewers: 500,
      }),
      streamer(
        "re_starter",
        "2002",
        D3,
        restarted({ start: "+20m", duration: "30m" }, { start: "+55m", duration: "30m" }),
        { viewers: 400 },
      ),
      streamer("gone_soon", "2003", D1, [{ start: "+15m", duration: "30m", deleteAfter: "10m" }], { viewers: 300 }),
      streamer("never_kept", "2004", D2, [{ start: "+15m", duration: "30m", saved: false }], { viewers: 200 }),
      { login: "on_zero", id: "2005", viewers: 100, domain: D0 },
      { login: "on_one", id: "2006", viewers: 100, domain: D1 },
    ],
    { streams: 8 },
  );
  sim.clock.advance(4 * 3_600_000);
  world = await fetcherWorld("fe2e", sim);
  groupId = uniqueName("fetcher");
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** The same group each time: a restarted fetcher carries on where the last one stopped. */
const start = () =>
  world.start({
    ...world.vars(DOMAINS, RATE, groupId),
    ...EXHAUSTIVE,
    ...SHORT_TIMEOUTS,
    REQUEST_RETRIES: "1",
    RETRY_BACKOFF: "50ms",
    CONCURRENCY: "4",
  });

/** Publishes requests and waits for as many new results. */
async function fetchAll(vods: VodTruth[]): Promise<Map<string, VodFetchResult>> {
  await world.producer.send(
    world.catalog.vodFetchRequests,
    vods.map((v) => vodRequest(v)),
  );
  resultsSeen += vods.length;
  const records = await readTopic(world.kafka, world.catalog.vodFetchResults.name, resultsSeen, 110_000);
  expect(records).toHaveLength(resultsSeen);
  // Records of different partitions interleave in any order; one VOD's results share a partition, in order.
  const wanted = new Set(vods.map(keyOf));
  return new Map([...resultsByKey(records)].filter(([key]) => wanted.has(key)));
}
const onCdn = (v: VodTruth) => v.saved && !v.deleted;

const simBodyAbsolute = (v: VodTruth) => absolutePlaylist(sim, v);

describe("hls-fetcher end to end (broker, Postgres, simulator)", () => {
  it("finds every VOD on the CDN (−1 s and seconds-field ones too), not_found for the rest, never above the rate", async () => {
    fetcher = await start();
    const ended = sim.vods({ state: "ended" });
    expect(ended.filter(onCdn).map((v) => v.variant)).toEqual(expect.arrayContaining(["start", "minus1", "seconds"]));
    expect(ended.some((v) => !onCdn(v))).toBe(true);
    sim.resetStats();

    const results = await fetchAll(ended);
    // Read before the test fetches a body itself.
    const stats = sim.stats();
    for (const v of ended) {
      const r = results.get(keyOf(v))!;
      expect(r.outcome, `${v.login} ${v.variant}`).toBe(onCdn(v) ? "found" : "not_found");
      if (r.outcome === "found") expect(r.found).toMatchObject({ domain: v.domain, variant: v.variant, ts: v.ts });
    }
    const muted = ended.find((v) => v.login === "minus_one")!;
    expect(muted.mutedSegmentsNow).toBe(2);
    const stored = gunzipSync(Buffer.from(results.get(keyOf(muted))!.found!.playlistGzipBase64, "base64")).toString(
      "utf8",
    );
    expect(stored).toBe(await simBodyAbsolute(muted));
    expect(stored).toContain(`${sim.cdnBaseUrl(D2)}`);
    expect(stored).toMatch(/\/1-muted\.ts\n/);

    expect(stats.cdn.requests).toBe([...results.values()].reduce((s, r) => s + r.requests, 0));
    expect(stats.cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
  }, 120_000);

  it("a blackholed domain: its VODs come out failed within the timeouts, the others keep flowing", async () => {
    sim.faults.add({ id: "bh", kind: "blackhole", domains: [D0] });
    sim.goLive("on_zero", { durationMs: 20 * 60_000 });
    sim.goLive("on_one", { durationMs: 20 * 60_000 });
    sim.clock.advance(30 * 60_000);
    const fresh = [...sim.vods({ login: "on_zero" }), ...sim.vods({ login: "on_one" })].filter((v) => !v.live);
    sim.resetStats();
    const results = await fetchAll(fresh);
    const zero = results.get(keyOf(fresh.find((v) => v.login === "on_zero")!))!;
    const one = results.get(keyOf(fresh.find((v) => v.login === "on_one")!))!;
    expect(zero.outcome).toBe("failed");
    expect(zero.error).toMatch(/(headers|request|connect) timeout|skipped, failing/);
    expect(one.outcome).toBe("found");
    expect(sim.stats().cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
    sim.faults.clear(["bh"]);
  }, 120_000);

  it("what it learned survives a restart: a known streamer's next VOD costs one request", async () => {
    await fetcher!.stop();
    fetcher = await start();
    await fetcher.knowledge.warm(["2001"]);
    expect(fetcher.knowledge.streamerDomain("2001")).toBe(D2);
    sim.goLive("minus_one", { durationMs: 15 * 60_000 });
    sim.clock.advance(20 * 60_000);
    const next = sim
      .vods({ login: "minus_one" })
      .filter((v) => !v.live)
      .at(-1)!;
    const results = await fetchAll([next]);
    expect(results.get(keyOf(next))).toMatchObject({ outcome: "found", requests: 1 });
  }, 120_000);
});
