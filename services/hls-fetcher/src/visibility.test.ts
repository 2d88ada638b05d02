import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "@vod/clock";
import type { VodFetchRequest } from "@vod/kafka";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { testLog } from "@vod/testing";
import { VodFetcher } from "./fetcher.ts";
import { CdnHttp } from "./http.ts";
import { DomainKnowledge } from "./knowledge.ts";
import { RateLimiter } from "./limiter.ts";
import { VisibilityLookup } from "./visibility.ts";

const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 2);
const [D0, D1] = DOMAINS as [string, string];
let sim: Simulator;
let clock: Clock;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    streams: 0,
    domains: DOMAINS,
    streamers: [
      { login: "open_book", id: "3001", viewers: 100, domain: D0, sessions: [{ start: "-5h", duration: "1h" }, { start: "-3h", duration: "1h" }] },
      { login: "hides_all", id: "3002", viewers: 100, domain: D1, hidden: true, sessions: [{ start: "-4h", duration: "1h" }] },
      { login: "subs_only", id: "3003", viewers: 100, domain: D0, subOnly: true, sessions: [{ start: "-4h", duration: "1h" }] },
      { login: "was_deleted", id: "3004", viewers: 100, domain: D1, sessions: [{ start: "-5h", duration: "1h", deleteAfter: "10m" }, { start: "-3h", duration: "1h" }] },
    ],
  });
  clock = { now: () => sim.clock.now(), realDelay: (ms) => ms };
});
afterAll(async () => {
  await sim.close();
});

function setup(timeoutMs = 2_000) {
  const limiter = new RateLimiter({ perSecond: 50, floorPerSecond: 1 });
  const http = new CdnHttp(limiter, { connectTimeoutMs: 2_000, headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000, requestTimeoutMs: 4_000 });
  const knowledge = new DomainKnowledge({ halfLifeMs: 6 * 3_600_000, failureThreshold: 3, cooldownMs: 120_000 });
  const visibility = new VisibilityLookup({ endpoint: sim.gqlUrl, clientId: "test", perSecond: 20, timeoutMs, maxQueued: 8 }, testLog);
  const fetcher = new VodFetcher(http, knowledge, clock, { domains: DOMAINS, urlTemplate: sim.cdnUrlTemplate, retries: 0, backoffMs: 20, visibility }, testLog);
  return { fetcher, visibility, close: async () => (await limiter.stop(), await http.close(), await visibility.stop()) };
}

const truth = (login: string, i = 0): VodTruth => sim.vods({ login })[i]!;
const request = (v: VodTruth): VodFetchRequest => ({
  v: 1, streamId: v.streamId, startTime: v.startTime, streamerId: v.streamerId, login: v.login,
  firstSeen: v.startTime, lastSeen: v.endedAt ?? v.startTime, maxViewers: 10, releaseAt: v.startTime,
});
const never = new AbortController().signal;

describe("VOD visibility from the simulator's GQL", () => {
  it("a listed VOD is public, a hidden streamer's is not, a sub-only streamer's is sub only; each as the ground truth says", async () => {
    const f = setup();
    const cases = [truth("open_book", 0), truth("open_book", 1), truth("hides_all"), truth("subs_only"), truth("was_deleted", 0), truth("was_deleted", 1)];
    expect(cases.map((v) => [v.login, v.public, v.hidden, v.subOnly, v.deleted])).toEqual([
      ["open_book", true, false, false, false],
      ["open_book", true, false, false, false],
      ["hides_all", false, true, false, false],
      ["subs_only", true, false, true, false],
      ["was_deleted", false, false, false, true],
      ["was_deleted", true, false, false, false],
    ]);
    for (const v of cases) {
      const r = await f.fetcher.fetch(request(v), never);
      expect(r.visibility, v.login).toEqual({ public: v.public, subOnly: v.subOnly });
      expect(r.outcome, v.login).toBe(v.deleted ? "not_found" : "found");
    }
    await f.close();
  });

  it("GQL down or never answering: the VOD is still found, its visibility left unknown", async () => {
    const v = truth("open_book", 1);
    for (const fault of [{ id: "gql-down", kind: "down" as const, target: "gql" as const }, { id: "gql-hole", kind: "blackhole" as const, target: "gql" as const }]) {
      sim.faults.add(fault);
      try {
        const f = setup(500);
        const r = await f.fetcher.fetch(request(v), never);
        expect(r, fault.id).toMatchObject({ outcome: "found", error: null, visibility: { public: null, subOnly: null } });
        await f.close();
      } finally {
        sim.faults.clear([fault.id]);
      }
    }
  });

  it("without a lookup the result carries no visibility", async () => {
    const limiter = new RateLimiter({ perSecond: 50, floorPerSecond: 1 });
    const http = new CdnHttp(limiter, { connectTimeoutMs: 2_000, headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000, requestTimeoutMs: 4_000 });
    const knowledge = new DomainKnowledge({ halfLifeMs: 6 * 3_600_000, failureThreshold: 3, cooldownMs: 120_000 });
    const fetcher = new VodFetcher(http, knowledge, clock, { domains: DOMAINS, urlTemplate: sim.cdnUrlTemplate, retries: 0, backoffMs: 20 }, testLog);
    const r = await fetcher.fetch(request(truth("open_book", 1)), never);
    expect(r.outcome).toBe("found");
    expect(r.visibility).toBeUndefined();
    await limiter.stop();
    await http.close();
  });
});
