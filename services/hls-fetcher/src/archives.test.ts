import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "@vod/clock";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import {
  cdnDomains,
  freshDatabase,
  restarted,
  scriptedSimulator,
  simulatorClock,
  streamer,
  testLog,
  type TestDatabase,
} from "@vod/testing";
import { ArchiveLookup } from "./archives.ts";
import { BlockDetector } from "./block.ts";
import { VodFetcher } from "./fetcher.ts";
import { FollowUps } from "./followups.ts";
import { DomainKnowledge } from "./knowledge.ts";
import { cdnRig, directRequest } from "./__fixtures__/cdn-rig.ts";

const DOMAINS = cdnDomains(2);
const [D0, D1] = DOMAINS;
/** Serves some streamers' VODs but is not in the fetcher's configured list. */
const UNCONFIGURED = "d1ndex63qxojbr.cloudfront.net";
let sim: Simulator;
let clock: Clock;
let t: TestDatabase;

beforeAll(async () => {
  t = await freshDatabase();
  sim = await scriptedSimulator(
    5,
    [...DOMAINS, UNCONFIGURED],
    [
      streamer("open_book", "3001", D0, [
        { start: "-5h", duration: "1h" },
        { start: "-3h", duration: "1h" },
      ]),
      streamer("hides_all", "3002", D1, [{ start: "-4h", duration: "1h" }], { hidden: true }),
      streamer("subs_only", "3003", D0, [{ start: "-4h", duration: "1h" }], { subOnly: true }),
      streamer("was_deleted", "3004", D1, [
        { start: "-5h", duration: "1h", deleteAfter: "10m" },
        { start: "-3h", duration: "1h" },
      ]),
      streamer(
        "restarter",
        "3005",
        D1,
        restarted({ start: "-5h", duration: "30m" }, { start: "-270m", duration: "40m" }),
      ),
      streamer("new_host", "3006", UNCONFIGURED, [{ start: "-4h", duration: "1h" }]),
      { login: "on_air", id: "3008", viewers: 100, domain: D0, sessions: [{ start: "-2h" }] },
      { login: "ends_soon", id: "3009", viewers: 100, domain: D0, sessions: [{ start: "-50m", duration: "1h" }] },
      streamer(
        "saves_none",
        "3007",
        D0,
        [
          { start: "-5h", duration: "1h" },
          { start: "-3h", duration: "1h" },
        ],
        { savesVods: false },
      ),
    ],
  );
  clock = simulatorClock(sim);
});
afterAll(async () => {
  await sim.close();
  await t.drop();
});

function setup(
  o: {
    timeoutMs?: number;
    lookup?: boolean;
    block?: BlockDetector;
    knowledge?: DomainKnowledge;
    discoverable?: RegExp;
    cacheMs?: number;
  } = {},
) {
  const rig = cdnRig({ knowledge: o.knowledge });
  const { limiter, http, knowledge } = rig;
  const archives = new ArchiveLookup(
    {
      endpoint: sim.gqlUrl,
      clientId: "test",
      perSecond: 20,
      timeoutMs: o.timeoutMs ?? 2_000,
      batchSize: 10,
      batchWaitMs: 20,
      cacheMs: o.cacheMs ?? 0,
      now: () => clock.now(),
    },
    testLog,
  );
  const fetcher = new VodFetcher(
    http,
    knowledge,
    clock,
    {
      domains: DOMAINS,
      urlTemplate: sim.cdnUrlTemplate,
      retries: 0,
      backoffMs: 20,
      stopProbability: 0.03,
      discoverable: o.discoverable ?? /\.cloudfront\.net$|\.twitch\.tv$/,
      ...(o.lookup === false ? {} : { archives }),
      ...(o.block ? { block: o.block } : {}),
    },
    testLog,
  );
  return {
    fetcher,
    archives,
    knowledge,
    limiter,
    close: async () => (await rig.close(), await archives.stop()),
  };
}

const truth = (login: string, i = 0): VodTruth => sim.vods({ login })[i]!;
const request = directRequest;
const never = new AbortController().signal;

describe("GQL first: the streamer's archive listing before any CDN request", () => {
  it("a listed VOD costs exactly one CDN request, on the domain and path seekPreviewsURL names", async () => {
    const f = setup();
    for (const v of [truth("open_book", 0), truth("open_book", 1), truth("subs_only")]) {
      sim.resetStats();
      const r = await f.fetcher.fetch(request(v), never);
      expect(r, v.login).toMatchObject({
        outcome: "found",
        requests: 1,
        found: { domain: v.domain, url: sim.playlistUrl(v) },
      });
      expect(sim.stats().cdn.requests, v.login).toBe(1);
    }
    await f.close();
  });

  it("several streamers share one POST", async () => {
    const f = setup();
    const vods = [truth("open_book", 1), truth("subs_only"), truth("restarter", 0), truth("was_deleted", 1)];
    const results = await Promise.all(vods.map((v) => f.fetcher.fetch(request(v), never)));
    expect(results.map((r) => r.outcome)).toEqual(["found", "found", "found", "found"]);
    expect(f.archives.posts).toBe(1);
    expect(f.archives.lookups).toBe(4);
    await f.close();
  });

  it("of a same-id restart's two listed VODs, each request gets its own (the second by its seconds-field ts)", async () => {
    const f = setup();
    const [first, second] = [truth("restarter", 0), truth("restarter", 1)];
    expect(first.streamId).toBe(second.streamId);
    expect(second.variant).toBe("seconds");
    for (const v of [second, first]) {
      const r = await f.fetcher.fetch(request(v, v === second), never);
      expect(r, v.path).toMatchObject({ outcome: "found", requests: 1, found: { url: sim.playlistUrl(v), ts: v.ts } });
    }
    await f.close();
  });

  it("a VOD on a domain that is not configured is found through seekPreviewsURL, and the domain is learned and persisted", async () => {
    const knowledge = new DomainKnowledge({ halfLifeMs: 6 * 3_600_000, failureThreshold: 3, cooldownMs: 120_000 });
    const f = setup({ knowledge });
    const v = truth("new_host");
    const r = await f.fetcher.fetch(request(v), never);
    expect(r).toMatchObject({ outcome: "found", requests: 1, found: { domain: UNCONFIGURED } });
    expect(f.fetcher.domains()).toContain(UNCONFIGURED);
    await knowledge.flush(t.db);
    const loaded = await DomainKnowledge.load(t.db, {
      halfLifeMs: 6 * 3_600_000,
      failureThreshold: 3,
      cooldownMs: 120_000,
    });
    expect(loaded.discoveredDomains()).toEqual([UNCONFIGURED]);
    await f.close();
  });

  it("a listed VOD on a host that may not be learned is searched in full on the configured domains, never given up at once", async () => {
    const f = setup({ discoverable: /\.twitch\.tv$/ });
    const r = await f.fetcher.fetch(request(truth("new_host")), never);
    expect(r.outcome).toBe("not_found");
    expect(r.partial).toBeUndefined();
    expect(r.requests).toBeGreaterThanOrEqual(DOMAINS.length * 2);
    expect(f.fetcher.domains()).not.toContain(UNCONFIGURED);
    await f.close();
  });

  it("visibility comes with the listing: public when listed, not public when hidden or deleted, sub only as the streamer says", async () => {
    const f = setup();
    for (const v of [truth("open_book", 1), truth("hides_all"), truth("subs_only"), truth("was_deleted", 0)]) {
      const r = await f.fetcher.fetch(request(v), never);
      expect(r.visibility, v.login).toEqual({ public: v.public, subOnly: v.subOnly });
    }
    await f.close();
  });

  it("a VOD GQL does not list, of a streamer whose other VODs are listed (deleted), costs no request: not_found, partial", async () => {
    const f = setup();
    sim.resetStats();
    const r = await f.fetcher.fetch(request(truth("was_deleted", 0)), never);
    expect(r).toMatchObject({ outcome: "not_found", requests: 0, partial: true });
    expect(sim.stats().cdn.requests).toBe(0);
    await f.close();
  });

  it("a streamer that saves nothing costs a few requests once, then none", async () => {
    const f = setup();
    const firstCost = (await f.fetcher.fetch(request(truth("saves_none", 0)), never)).requests;
    expect(firstCost).toBeGreaterThan(0);
    expect(firstCost).toBeLessThanOrEqual(6);
    const second = await f.fetcher.fetch(request(truth("saves_none", 1)), never);
    expect(second).toMatchObject({ outcome: "not_found", requests: 0 });
    await f.close();
  });

  it("a hidden streamer's VOD is searched for and found; found unlisted once, its next VOD is searched on its domain first", async () => {
    const f = setup();
    const r = await f.fetcher.fetch(request(truth("hides_all")), never);
    expect(r).toMatchObject({ outcome: "found", found: { domain: D1 } });
    expect(f.knowledge.history("3002")).toMatchObject({ unlistedFound: 1, domain: D1 });
    await f.close();
  });

  it("GQL down or never answering: the search finds what the CDN holds, visibility unknown", async () => {
    const v = truth("open_book", 1);
    for (const fault of [
      { id: "gql-down", kind: "down" as const, target: "gql" as const },
      { id: "gql-hole", kind: "blackhole" as const, target: "gql" as const },
    ]) {
      sim.faults.add(fault);
      try {
        const f = setup({ timeoutMs: 500 });
        const r = await f.fetcher.fetch(request(v), never);
        expect(r, fault.id).toMatchObject({
          outcome: "found",
          error: null,
          visibility: { public: null, subOnly: null },
        });
        await f.close();
      } finally {
        sim.faults.clear([fault.id]);
      }
    }
  });

  it("a stream GQL says is still live costs no CDN request: outcome live", async () => {
    const f = setup();
    sim.resetStats();
    const r = await f.fetcher.fetch(request(truth("on_air")), never);
    expect(r).toMatchObject({ outcome: "live", requests: 0, found: null });
    expect(sim.stats().cdn.requests).toBe(0);
    await f.close();
  });

  it("without a lookup the result carries no visibility", async () => {
    const f = setup({ lookup: false });
    const r = await f.fetcher.fetch(request(truth("open_book", 1)), never);
    expect(r.outcome).toBe("found");
    expect(r.visibility).toBeUndefined();
    await f.close();
  });

  it("a WAF-style 403 storm: failed (never not_found), the limiter slows down, and the automatic retry finds the VODs after it", async () => {
    let blocks = 0;
    const block = new BlockDetector({ threshold: 2, windowMs: 120_000, holdMs: 300_000, onBlock: () => blocks++ });
    const f = setup({ block });
    const followUps = new FollowUps({
      retryInitialMs: 120_000,
      retryMaxMs: 1_800_000,
      retryForMs: 86_400_000,
      deepForMs: 3_600_000,
      deepStopProbability: 0.005,
      deepStopProbabilityStreamer: 0.0005,
    });
    const vods = [truth("open_book", 0), truth("open_book", 1), truth("subs_only"), truth("hides_all")];
    sim.faults.add({ id: "waf", kind: "down", target: "cdn", status: 403 });
    try {
      for (const v of vods) {
        const report = await f.fetcher.run(request(v), never);
        expect(report.result.outcome, v.login).toBe("failed");
        followUps.apply(request(v), report, clock.now());
      }
    } finally {
      sim.faults.clear(["waf"]);
    }
    expect(blocks).toBe(1);
    expect(followUps.count("retry")).toBe(vods.length);
    expect(followUps.dueRetries(clock.now(), 10)).toEqual([]);
    sim.clock.advance(6 * 60_000);
    const due = followUps.dueRetries(clock.now(), 10);
    expect(due).toHaveLength(vods.length);
    for (const req of due) {
      const report = await f.fetcher.run(req, never);
      // A hidden streamer's VOD is unlisted: a search, which may leave it to the deep search; never failed again.
      if (req.login === "hides_all")
        expect(report.result, req.login).toSatisfy(
          (r: { outcome: string; partial?: boolean }) => r.outcome === "found" || r.partial === true,
        );
      else expect(report.result.outcome, req.login).toBe("found");
      followUps.apply(req, report, clock.now());
    }
    expect(followUps.count("retry")).toBe(0);
    await f.close();
  });

  it("a cached listing older than the release is asked again: it cannot call an ended stream live", async () => {
    const f = setup({ cacheMs: 60 * 60_000 });
    const v = truth("ends_soon");
    // Released while still live (a dip under the sweeps): the listing says so, and is cached.
    expect(
      (await f.fetcher.fetch({ ...request(v), releaseAt: new Date(clock.now()).toISOString() }, never)).outcome,
    ).toBe("live");
    expect(f.archives.posts).toBe(1);
    // A request released before the cached listing was taken may use it.
    expect((await f.fetcher.fetch(request(v), never)).outcome).toBe("live");
    expect(f.archives.posts).toBe(1);
    // The stream ends; released after that, the cached "live" predates the evidence: GQL is asked again.
    sim.clock.advance(20 * 60_000);
    const ended = truth("ends_soon");
    expect(ended.live).toBe(false);
    const r = await f.fetcher.fetch({ ...request(ended), releaseAt: new Date(clock.now()).toISOString() }, never);
    expect(r).toMatchObject({ outcome: "found", requests: 1 });
    expect(f.archives.posts).toBe(2);
    await f.close();
  });
});
