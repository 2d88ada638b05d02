import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "@vod/clock";
import { vodFetchResult } from "@vod/kafka";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import {
  absolutePlaylist,
  cdnDomains,
  restarted,
  scriptedSimulator,
  simulatorClock,
  streamer,
  testLog,
} from "@vod/testing";
import { VodFetcher } from "./fetcher.ts";
import { FollowUps } from "./followups.ts";
import { cdnRig, directRequest } from "./__fixtures__/cdn-rig.ts";

const DOMAINS = cdnDomains(4);
const [D0, D1, D2, D3] = DOMAINS;
let sim: Simulator;
let clock: Clock;

beforeAll(async () => {
  sim = await scriptedSimulator(11, DOMAINS, [
    streamer("plain_one", "1001", D1, [
      { start: "-4h", duration: "1h", muted: [[2, 4]] },
      { start: "-150m", duration: "20m" },
    ]),
    streamer("minus_one", "1002", D2, [{ start: "-4h", duration: "30m", variant: "minus1" }]),
    streamer("restarter", "1003", D3, restarted({ start: "-5h", duration: "20m" }, { start: "-4h", duration: "20m" })),
    streamer("never_saved", "1004", D0, [{ start: "-4h", duration: "20m", saved: false }], { viewers: 10 }),
    { login: "on_blackhole", id: "1005", viewers: 10, domain: D0, sessions: [{ start: "-4h", duration: "20m" }] },
    { login: "still_live", id: "1006", viewers: 10, domain: D2, sessions: [{ start: "-2h" }] },
  ]);
  clock = simulatorClock(sim);
});
afterAll(async () => {
  await sim.close();
});

function setup(
  overrides: { perSecond?: number; headersTimeoutMs?: number; retries?: number; maxSegments?: number } = {},
) {
  const rig = cdnRig({ perSecond: overrides.perSecond, timeoutMs: overrides.headersTimeoutMs });
  const fetcher = new VodFetcher(
    rig.http,
    rig.knowledge,
    clock,
    {
      domains: DOMAINS,
      urlTemplate: sim.cdnUrlTemplate,
      retries: overrides.retries ?? 1,
      backoffMs: 20,
      stopProbability: 0,
      discoverable: /./,
      ...(overrides.maxSegments
        ? { playlist: { maxSegments: overrides.maxSegments, maxInputBytes: 4 << 20, maxOutputBytes: 8 << 20 } }
        : {}),
    },
    testLog,
  );
  return { ...rig, fetcher };
}

const truth = (login: string, i = 0): VodTruth => sim.vods({ login })[i]!;
const request = (v: VodTruth) => directRequest(v);
const never = new AbortController().signal;

const expectedPlaylist = (v: VodTruth) => absolutePlaylist(sim, v);

describe("VodFetcher against the simulator's CDN", () => {
  it("finds the plain, the −1 s and the seconds-field VODs; the playlist gunzips to the simulator's body with absolute URIs and muted names", async () => {
    const f = setup();
    const cases = [truth("plain_one"), truth("minus_one"), truth("restarter", 1)];
    expect(cases.map((c) => c.variant)).toEqual(["start", "minus1", "seconds"]);
    for (const v of cases) {
      const r = await f.fetcher.fetch(request(v), never);
      expect(r, v.login).toMatchObject({
        outcome: "found",
        error: null,
        found: { domain: v.domain, variant: v.variant, ts: v.ts, url: sim.playlistUrl(v) },
      });
      const stored = gunzipSync(Buffer.from(r.found!.playlistGzipBase64, "base64")).toString("utf8");
      expect(stored).toBe(await expectedPlaylist(v));
      expect(r.found!.segments).toBe(v.segments);
      expect(r.found!.mutedSegments).toBe(v.mutedSegmentsNow);
    }
    const plain = truth("plain_one");
    expect(plain.mutedSegmentsNow).toBe(2);
    await f.close();
  });

  it("a playlist without #EXT-X-ENDLIST is a live stream: outcome live, nothing stored", async () => {
    const f = setup();
    const v = truth("still_live");
    expect(v.live).toBe(true);
    const r = await f.fetcher.fetch(request(v), never);
    expect(r).toMatchObject({ outcome: "live", found: null });
    expect(r.requests).toBeGreaterThanOrEqual(1);
    expect(r.error).toMatch(/ENDLIST/);
    await f.close();
  });

  it("a VOD found live at its LIVE_RESULT_LIMIT-th fetch is failed for good, not tracked again", async () => {
    const f = setup();
    const v = truth("still_live");
    // Found live five times before: the sixth (the default limit) gives up.
    const r = await f.fetcher.fetch({ ...request(v), liveResults: 5 }, never);
    expect(r).toMatchObject({ outcome: "failed", terminal: true, found: null });
    expect(r.error).toMatch(/ENDLIST.*live at 6 fetches, given up/);
    const before = await f.fetcher.fetch({ ...request(v), liveResults: 4 }, never);
    expect(before.outcome).toBe("live");
    await f.close();
  });

  it("not_found only after every candidate answered 403; a known streamer's next VOD costs one request", async () => {
    const f = setup();
    const missing = await f.fetcher.fetch(request(truth("never_saved")), never);
    expect(missing).toMatchObject({ outcome: "not_found", requests: DOMAINS.length * 3, found: null, error: null });

    const first = await f.fetcher.fetch(request(truth("plain_one", 0)), never);
    expect(first.outcome).toBe("found");
    const second = await f.fetcher.fetch(request(truth("plain_one", 1)), never);
    expect(second).toMatchObject({ outcome: "found", requests: 1 });
    expect(f.knowledge.streamerDomain("1001")).toBe(D1);
    await f.close();
  });

  it("a blackholed domain fails within the timeouts, costs its VODs a failed outcome, and is then skipped", async () => {
    sim.faults.add({ id: "bh", kind: "blackhole", domains: [D0] });
    try {
      const f = setup({ headersTimeoutMs: 1_000, retries: 1 });
      const r = await f.fetcher.fetch(request(truth("on_blackhole")), never);
      expect(r.outcome).toBe("failed");
      // Ended by our timeouts (undici's headers timer or the whole-request one), not by the server.
      expect(r.error).toMatch(new RegExp(`${D0.replaceAll(".", "\\.")}: (headers|request) timeout`));
      // Two attempts on D0 (each ended by the timeout), then clean 403s everywhere else.
      expect(r.requests).toBe(2 + 3 * 3);
      // Other VODs keep flowing while D0 is down.
      expect((await f.fetcher.fetch(request(truth("minus_one")), never)).outcome).toBe("found");
      // After enough failures in a row the domain is skipped without a request until its cooldown passes.
      await f.fetcher.fetch(request(truth("on_blackhole")), never);
      expect(f.knowledge.state(D0, clock.now())).toBe("open");
      const skipped = await f.fetcher.fetch(request(truth("on_blackhole")), never);
      expect(skipped).toMatchObject({ outcome: "failed", requests: 9 });
      expect(skipped.error).toContain(`${D0}: skipped, failing`);
      await f.close();
    } finally {
      sim.faults.clear(["bh"]);
    }
  });

  it("after an outage, fetches that meet a domain's probe in flight wait for its verdict instead of failing", async () => {
    const f = setup();
    for (let i = 0; i < 3; i++) f.knowledge.failed(D1, clock.now());
    expect(f.knowledge.state(D1, clock.now())).toBe("open");
    sim.clock.advance(121_000);
    // A slow answer keeps the probe in flight while the other fetch reaches the domain.
    sim.faults.add({ id: "slow", kind: "latency", domains: [D1], ms: 300 });
    try {
      const results = await Promise.all(
        [truth("plain_one", 0), truth("plain_one", 1)].map((v) => f.fetcher.fetch(request(v), never)),
      );
      expect(results.map((r) => [r.outcome, r.error])).toEqual([
        ["found", null],
        ["found", null],
      ]);
      expect(f.knowledge.state(D1, clock.now())).toBe("closed");
    } finally {
      sim.faults.clear(["slow"]);
      await f.close();
    }
  });

  it("a 429 slows the limiter down and the request is retried, not ignored", async () => {
    sim.faults.add({ id: "rl", kind: "rateLimit", limit: 1, windowMs: 400 });
    try {
      const f = setup({ perSecond: 50, retries: 4 });
      const r = await f.fetcher.fetch(request(truth("plain_one")), never);
      expect(f.limiter.minTimeMs).toBeGreaterThan(30);
      expect(r.outcome).toBe("found");
      expect(r.requests).toBeGreaterThan(1);
      await f.close();
    } finally {
      sim.faults.clear(["rl"]);
    }
  });

  it("a bloated playlist (2.5 MiB, 1.3 M segments) is failed for good, naming the cap, and never retried", async () => {
    sim.faults.add({ id: "bloat", kind: "malformed", mode: "bloated", logins: ["minus_one"] });
    try {
      const f = setup();
      const v = truth("minus_one");
      const r = await f.fetcher.fetch(request(v), never);
      expect(r).toMatchObject({ outcome: "failed", terminal: true, found: null });
      expect(r.error).toBe(`${v.domain}: playlist has more than 50000 segments (the cap); not retried`);
      expect(vodFetchResult.safeParse(r).success).toBe(true);
      const followUps = new FollowUps({
        retryInitialMs: 1,
        retryMaxMs: 1,
        retryForMs: 86_400_000,
        deepForMs: 1,
        deepStopProbability: 0.005,
        deepStopProbabilityStreamer: 0.0005,
      });
      followUps.apply(request(v), { result: r }, clock.now());
      expect(followUps.size).toBe(0);
      // A configured cap applies the same way.
      const small = setup({ maxSegments: 100 });
      sim.faults.clear(["bloat"]);
      const capped = await small.fetcher.fetch(request(v), never);
      expect(capped.error).toMatch(/more than 100 segments/);
      await Promise.all([f.close(), small.close()]);
    } finally {
      sim.faults.clear(["bloat"]);
    }
  });

  it("a hostile playlist keeps only its own segments: other schemes and hosts are left out, counted, not fatal", async () => {
    sim.faults.add({ id: "hostile", kind: "malformed", mode: "hostile", logins: ["minus_one"] });
    try {
      const f = setup();
      const v = truth("minus_one");
      const r = await f.fetcher.fetch(request(v), never);
      // The broken first segment, four foreign URIs and the key tag on the metadata address.
      expect(r).toMatchObject({ outcome: "found", error: null, found: { segments: v.segments - 1, skippedLines: 6 } });
      const stored = gunzipSync(Buffer.from(r.found!.playlistGzipBase64, "base64")).toString("utf8");
      expect(stored).not.toMatch(/169\.254|file:|elsewhere|javascript|\[0/);
      const base = sim.playlistUrl(v).replace("index-dvr.m3u8", "");
      const uris = stored.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      expect(uris.every((u) => u.startsWith(base))).toBe(true);
      await f.close();
    } finally {
      sim.faults.clear(["hostile"]);
    }
  });

  it("shutdown aborts a request in flight: the fetch rejects instead of reporting an outcome", async () => {
    sim.faults.add({ id: "bh2", kind: "blackhole" });
    try {
      const f = setup({ headersTimeoutMs: 30_000 });
      const stop = new AbortController();
      const pending = f.fetcher.fetch(request(truth("plain_one")), stop.signal);
      setTimeout(() => stop.abort(new Error("shutting down")), 100);
      await expect(pending).rejects.toThrow("shutting down");
      await f.close();
    } finally {
      sim.faults.clear(["bh2"]);
    }
  });
});
