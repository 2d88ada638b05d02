import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "@vod/clock";
import type { StreamSnapshot } from "@vod/kafka";
import { createGqlBatchClient, TWITCH_WEB_CLIENT_ID, type GqlBatchClient } from "@vod/twitch";
import { REALISTIC_RATES, startSimulator, type Simulator } from "@vod/twitch-sim";
import { SweepHistory } from "./integrity.ts";
import { parseShards, planShards, type PageMark, type ShardPlan } from "./shards.ts";
import { nextCursor } from "./advance.ts";
import { runSweep, type SweepOptions } from "./sweep.ts";

const options: SweepOptions = {
  pageSize: 30,
  overlap: 0.2,
  trackMinViewers: 10,
  maxPages: 1000,
  dropTolerance: 0,
  batchSize: 10,
  concurrency: 1,
  retries: 0,
  backoffInitialMs: 1,
  backoffMaxMs: 5,
  joinMargin: 0.1,
  driftMargin: 0.15,
};
const shards = parseShards("EN,ES,PT,DE,RU,FR,JA,KO");
const firstPlan = (): ShardPlan[] => planShards(shards, new Map(), { segmentPages: 100, maxSegments: 8 });
/** One chain over every stream, no filter: for answers scripted by hand. */
const unfiltered: ShardPlan[] = [{ shard: { name: "all", languages: [] }, starts: [null] }];
const never = new AbortController().signal;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const gqlOf = (s: Simulator): GqlBatchClient =>
  createGqlBatchClient({ endpoint: s.gqlUrl, clientId: TWITCH_WEB_CLIENT_ID });

/** Scripted streamers with fixed viewers: 70 at 10 or more, 5 below the threshold. */
async function world(extra: Parameters<typeof startSimulator>[0] = {}) {
  const streamers = Array.from({ length: 75 }, (_, i) => ({
    login: `streamer_${i}`,
    id: String(5000 + i),
    viewers: i < 70 ? 10 + i * 7 : i - 70,
    language: i % 3 === 0 ? "ES" : "EN",
    sessions: [{ start: "+0s" }],
  }));
  sim = await startSimulator({ streams: 0, streamers, ...extra });
  return sim;
}

function collect() {
  const published: StreamSnapshot[][] = [];
  return { published, publish: async (s: StreamSnapshot[]) => void published.push(s) };
}

/** The simulator's own answer: streamer ids of the live streams at or above `min` viewers now. */
function truth(s: Simulator, min: number): { ids: Set<string>; noCategory: Set<string> } {
  const ids = new Set<string>();
  const noCategory = new Set<string>();
  for (let off = 0; ; off += 30) {
    const page = s.world.page(off, 30);
    for (const it of page.items) {
      if (it.viewers < min) continue;
      ids.add(it.streamer.id);
      if (it.vod.gameIdx < 0) noCategory.add(it.streamer.id);
    }
    if (!page.hasNextPage) return { ids, noCategory };
  }
}

describe("sweep against the simulator", () => {
  it("reads every stream at or above the threshold once, most viewers first within a shard, and reports a complete sweep", async () => {
    const s = await world();
    const clock = manualClock(s.clock.now());
    const { published, publish } = collect();
    const { marker, shards: outcomes } = await runSweep(
      "sw-1",
      firstPlan(),
      options,
      { gql: gqlOf(s), clock, publish },
      never,
    );
    const all = published.flat();
    expect(marker).toMatchObject({ v: 1, sweepId: "sw-1", complete: true, reason: null, count: 70 });
    expect(all).toHaveLength(70);
    expect(new Set(all.map((x) => x.streamerId)).size).toBe(70);
    expect(all.every((x) => x.viewers >= 10 && x.sweepId === "sw-1")).toBe(true);
    const en = all.filter((x) => x.language === "EN");
    expect(en[0]).toMatchObject({
      login: "streamer_68",
      streamerId: "5068",
      viewers: 10 + 68 * 7,
      startTime: new Date(s.clock.now()).toISOString(),
    });
    expect(en[0]!.startTime).toMatch(/\.\d{3}Z$/);
    expect(en.map((x) => x.viewers)).toEqual([...en.map((x) => x.viewers)].sort((a, b) => b - a));
    expect(outcomes.find((o) => o.name === "EN")).toMatchObject({ complete: true, count: 46 });
    expect(outcomes.find((o) => o.name === "ES")).toMatchObject({ complete: true, count: 24 });
    expect(outcomes.every((o) => o.complete)).toBe(true);
  });

  it("marks the sweep incomplete, with the reason, when GQL keeps failing", async () => {
    const s = await world({ faults: [{ kind: "errors", fields: ["streams"], every: 2, message: "service timeout" }] });
    const { published, publish } = collect();
    const { marker } = await runSweep(
      "sw-2",
      firstPlan(),
      options,
      { gql: gqlOf(s), clock: manualClock(0), publish },
      never,
    );
    expect(marker.complete).toBe(false);
    expect(marker.reason).toMatch(/shard \S+: gql graphql: service timeout/);
    expect(marker.count).toBe(published.flat().length);
  });

  it("rides out intermittent failures with retries and still completes", async () => {
    const s = await world({ faults: [{ kind: "errors", fields: ["streams"], rate: 0.3 }] });
    const { published, publish } = collect();
    const retried: number[] = [];
    const { marker } = await runSweep(
      "sw-3",
      firstPlan(),
      { ...options, retries: 8 },
      { gql: gqlOf(s), clock: manualClock(0), publish, onRetry: (r) => retried.push(r.attempt) },
      never,
    );
    expect(retried.length).toBeGreaterThan(0);
    expect(marker).toMatchObject({ complete: true, count: 70 });
    expect(published.flat()).toHaveLength(70);
  });

  it("is incomplete when the GQL endpoint is down (HTTP 503)", async () => {
    const s = await world({ faults: [{ kind: "down", target: "gql", status: 503 }] });
    const { marker } = await runSweep(
      "sw-4",
      firstPlan(),
      { ...options, retries: 1 },
      { gql: gqlOf(s), clock: manualClock(0), publish: async () => {} },
      never,
    );
    expect(marker).toMatchObject({ complete: false, count: 0 });
    expect(marker.reason).toMatch(/HTTP 503/);
  });

  it("is incomplete when cut short by shutdown", async () => {
    const s = await world();
    const ctrl = new AbortController();
    const { marker } = await runSweep(
      "sw-5",
      firstPlan(),
      options,
      { gql: gqlOf(s), clock: manualClock(0), publish: async () => ctrl.abort(new Error("shutdown")) },
      ctrl.signal,
    );
    // The first POST carried the first page of every shard: 30 EN and 24 ES streams at 10 or more.
    expect(marker).toMatchObject({ complete: false, count: 54, reason: "cut short: shutdown" });
  });

  it("never puts more than the batch size in one POST, and pages each shard at once", async () => {
    const s = await world();
    const sizes: number[] = [];
    await runSweep(
      "sw-9",
      firstPlan(),
      { ...options, batchSize: 4 },
      { gql: gqlOf(s), clock: manualClock(0), publish: async () => {}, onPost: (n) => sizes.push(n) },
      never,
    );
    expect(Math.max(...sizes)).toBe(4);
    // Nine shards at once: more than one POST for their first pages alone.
    expect(sizes.length).toBeGreaterThanOrEqual(3);
  });
});

describe("shards against the simulator's ground truth", () => {
  it("together read every live stream at or above the tracking threshold, including those without a category, also when cut into segments", async () => {
    sim = await startSimulator({ streams: 6000, seed: 21, rates: REALISTIC_RATES });
    const s = sim;
    const expected = truth(s, 5);
    expect(expected.ids.size).toBeGreaterThan(1500);
    expect(expected.noCategory.size).toBeGreaterThan(5);
    const track = { ...options, trackMinViewers: 5 };
    const first = collect();
    const one = await runSweep(
      "sw-g1",
      firstPlan(),
      track,
      { gql: gqlOf(s), clock: manualClock(0), publish: first.publish },
      never,
    );
    expect(one.marker).toMatchObject({ complete: true, count: expected.ids.size });
    const seen = new Set(first.published.flat().map((x) => x.streamerId));
    expect(seen).toEqual(expected.ids);
    expect(first.published.flat().filter((x) => x.gameId === null).length).toBe(expected.noCategory.size);

    // The next sweep cuts each shard at cursors saved from this one.
    const marks = new Map<string, PageMark[]>(one.shards.map((o) => [o.name, o.marks]));
    const plans = planShards(shards, marks, { segmentPages: 4, maxSegments: 8 });
    expect(plans.find((p) => p.shard.name === "EN")!.starts.length).toBe(8);
    const second = collect();
    const two = await runSweep(
      "sw-g2",
      plans,
      track,
      { gql: gqlOf(s), clock: manualClock(0), publish: second.publish },
      never,
    );
    expect(two.marker).toMatchObject({ complete: true, count: expected.ids.size });
    expect(new Set(second.published.flat().map((x) => x.streamerId))).toEqual(expected.ids);
    expect(two.shards.find((o) => o.name === "EN")!.segments).toBe(8);
    // Segments run side by side: the longest chain is far shorter than the shard.
    expect(two.posts).toBeLessThan(one.posts);
  });

  it("reads back when the list is re-sorted under a chain, so streams that jumped over its front are not lost", async () => {
    const run = async (driftMargin: number) => {
      const s = await startSimulator({ streams: 6000, seed: 25, rates: REALISTIC_RATES });
      try {
        const before = truth(s, 5).ids;
        const { published, publish } = collect();
        let posts = 0;
        const steps: number[] = [];
        // One viewer tick passes in the middle of the sweep: every count is drawn again.
        const tick = async (snapshots: StreamSnapshot[]) => {
          await publish(snapshots);
          if (++posts === 12) s.clock.advance(60_000);
        };
        const r = await runSweep(
          "sw-r",
          firstPlan(),
          { ...options, trackMinViewers: 5, driftMargin },
          { gql: gqlOf(s), clock: manualClock(0), publish: tick, onStepBack: (x) => steps.push(x.from) },
          never,
        );
        const after = truth(s, 5).ids;
        const stable = [...before].filter((id) => after.has(id));
        const seen = new Set(published.flat().map((x) => x.streamerId));
        return {
          missed: stable.filter((id) => !seen.has(id)).length,
          stable: stable.length,
          steps: steps.length,
          complete: r.marker.complete,
        };
      } finally {
        await s.close();
      }
    };
    const without = await run(0);
    const withStepBack = await run(0.15);
    expect(without.steps).toBe(0);
    expect(withStepBack.steps).toBeGreaterThan(0);
    expect(withStepBack.complete).toBe(true);
    expect(without.missed).toBeGreaterThan(withStepBack.missed * 3);
    expect(withStepBack.missed / withStepBack.stable).toBeLessThan(0.002);
  });

  it("looks up by id the last sweep's streamers its pages missed, so drift over every chain's front loses none of them", async () => {
    const run = async (recheck: boolean) => {
      const s = await startSimulator({ streams: 6000, seed: 25, rates: REALISTIC_RATES });
      try {
        const before = truth(s, 5).ids;
        const { published, publish } = collect();
        let posts = 0;
        const idsPerOperation: number[] = [];
        const gql = gqlOf(s);
        const counting: GqlBatchClient = {
          batch: (ops, signal) => {
            for (const o of ops)
              if ("ids" in (o.variables ?? {})) idsPerOperation.push((o.variables as { ids: string[] }).ids.length);
            return gql.batch(ops, signal);
          },
        };
        const tick = async (snapshots: StreamSnapshot[]) => {
          await publish(snapshots);
          if (++posts === 12) s.clock.advance(60_000);
        };
        // No step-backs: every stream that jumped over a front is left to the lookup.
        const r = await runSweep(
          "sw-k",
          firstPlan(),
          { ...options, trackMinViewers: 5, driftMargin: 0 },
          { gql: counting, clock: manualClock(0), publish: tick, ...(recheck ? { recheck: before } : {}) },
          never,
        );
        const after = truth(s, 5).ids;
        const stable = [...before].filter((id) => after.has(id));
        const all = published.flat();
        const seen = new Set(all.map((x) => x.streamerId));
        return {
          missed: stable.filter((id) => !seen.has(id)).length,
          r,
          idsPerOperation,
          unique: seen.size === all.length,
        };
      } finally {
        await s.close();
      }
    };
    const without = await run(false);
    const withRecheck = await run(true);
    expect(without.missed).toBeGreaterThan(5);
    expect(without.r.recheck).toEqual({ asked: 0, published: 0, unanswered: 0 });
    expect(withRecheck.missed).toBe(0);
    expect(withRecheck.r.recheck.published).toBeGreaterThanOrEqual(without.missed);
    expect(withRecheck.r.recheck.unanswered).toBe(0);
    expect(withRecheck.r.marker.count).toBe(withRecheck.r.published.size);
    expect(withRecheck.unique).toBe(true);
    expect(withRecheck.idsPerOperation.length).toBeGreaterThan(0);
    expect(Math.max(...withRecheck.idsPerOperation)).toBeLessThanOrEqual(100);
  });

  it("covers a segment whose saved cursor no longer answers from the segment before it", async () => {
    sim = await startSimulator({ streams: 2000, seed: 22, rates: REALISTIC_RATES });
    const expected = truth(sim, 5);
    const dead: number[] = [];
    const plans = firstPlan().map((p) => (p.shard.name === "EN" ? { ...p, starts: [null, "not-a-cursor"] } : p));
    const { published, publish } = collect();
    const { marker } = await runSweep(
      "sw-d",
      plans,
      { ...options, trackMinViewers: 5, retries: 1 },
      { gql: gqlOf(sim), clock: manualClock(0), publish, onDeadSegment: (d) => dead.push(d.segment) },
      never,
    );
    expect(dead).toEqual([1]);
    expect(marker.complete).toBe(true);
    expect(new Set(published.flat().map((x) => x.streamerId))).toEqual(expected.ids);
  });

  it("is incomplete when one shard fails after its retries, and names it, while the others complete", async () => {
    sim = await startSimulator({
      streams: 3000,
      seed: 23,
      rates: REALISTIC_RATES,
      faults: [{ kind: "errors", fields: ["streams"], rate: 0.15, message: "resolver down" }],
    });
    const { marker, shards: outcomes } = await runSweep(
      "sw-f",
      firstPlan(),
      { ...options, trackMinViewers: 5 },
      { gql: gqlOf(sim), clock: manualClock(0), publish: async () => {} },
      never,
    );
    const failed = outcomes.filter((o) => !o.complete);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(outcomes.length);
    expect(marker.complete).toBe(false);
    expect(marker.reason).toContain(`shard ${failed[0]!.name}: gql graphql: resolver down`);
  });

  it("makes every sweep incomplete while GraphQL answers empty pages for 20 minutes, and complete again after", async () => {
    sim = await startSimulator({ streams: 2000, seed: 24, rates: REALISTIC_RATES });
    const s = sim;
    const history = new SweepHistory({ minRatio: 0.5, history: 5, minMedian: 20 });
    const sweep = async (id: string) => {
      const r = await runSweep(
        id,
        firstPlan(),
        { ...options, trackMinViewers: 5 },
        { gql: gqlOf(s), clock: manualClock(s.clock.now()), publish: async () => {} },
        never,
      );
      return history.judge(r.marker, r.shards, 5);
    };
    expect(await sweep("before")).toMatchObject({ complete: true });
    s.faults.add({ kind: "empty", for: "20m" });
    const during = [];
    for (let t = 0; t < 20; t += 5) {
      during.push(await sweep(`during-${t}`));
      s.clock.advance(5 * 60_000);
    }
    expect(during).toHaveLength(4);
    for (const m of during)
      expect(m).toMatchObject({ complete: false, count: 0, reason: "empty sweep: no stream at or above 5 viewers" });
    expect(await sweep("after")).toMatchObject({ complete: true, reason: null });
  });
});

describe("sweep integrity", () => {
  const marker = (count: number) => ({
    v: 1 as const,
    sweepId: "x",
    startedAt: "",
    finishedAt: "",
    complete: true,
    reason: null,
    count,
  });
  const shard = (name: string, count: number) => ({
    name,
    complete: true,
    reason: null,
    count,
    pages: 1,
    segments: 1,
    marks: [],
  });

  it("marks a sweep far below the median of recent complete ones incomplete, and does not learn from it", () => {
    const h = new SweepHistory({ minRatio: 0.5, history: 3, minMedian: 20 });
    for (const c of [1000, 1100, 900]) expect(h.judge(marker(c), [], 5).complete).toBe(true);
    const low = h.judge(marker(400), [], 5);
    expect(low).toMatchObject({
      complete: false,
      reason: "count 400 is below 0.5 of the median 1000 of the last 3 complete sweeps",
    });
    expect(h.judge(marker(520), [], 5).complete).toBe(true);
    // An incomplete sweep stays incomplete with its own reason.
    expect(h.judge({ ...marker(1000), complete: false, reason: "cut short" }, [], 5).reason).toBe("cut short");
  });

  it("judges small counts by emptiness alone: a world of a few streams swings by half", () => {
    const h = new SweepHistory({ minRatio: 0.5, history: 3, minMedian: 20 });
    for (const c of [6, 6, 6]) h.judge(marker(c), [shard("EN", c)], 5);
    expect(h.judge(marker(2), [shard("EN", 2)], 5).complete).toBe(true);
    expect(h.judge(marker(0), [shard("EN", 0)], 5).reason).toBe("empty sweep: no stream at or above 5 viewers");
  });

  it("marks a sweep incomplete when one large shard collapses, though the total looks fine", () => {
    const h = new SweepHistory({ minRatio: 0.5, history: 5, minMedian: 20 });
    h.judge(marker(1000), [shard("EN", 400), shard("ES", 600)], 5);
    const m = h.judge(marker(700), [shard("EN", 100), shard("ES", 600)], 5);
    expect(m).toMatchObject({ complete: false });
    expect(m.reason).toMatch(/^shard EN: count 100 is below 0.5 of its median 400/);
  });
});

describe("sweep against odd answers", () => {
  const stream = (id: number, viewers: number) => ({
    id: String(9000 + id),
    viewersCount: viewers,
    createdAt: "2025-01-06T12:00:00Z",
    type: "live",
    broadcaster: { id: String(100 + id), login: `s${id}`, broadcastSettings: null },
    game: null,
  });
  const fake = (pages: unknown[]): GqlBatchClient => {
    let i = 0;
    return { batch: async (ops) => ops.map(() => ({ ok: true as const, data: pages[i++], errors: [] })) };
  };

  it("drops null and invalid streams, counts them, and marks the sweep incomplete beyond the tolerance", async () => {
    const page = {
      streams: {
        edges: [
          { cursor: "a", node: stream(1, 50) },
          { cursor: "b", node: null },
          { cursor: "c", node: { ...stream(2, 40), broadcaster: null } },
          { cursor: "d", node: stream(3, 5) },
        ],
        pageInfo: { hasNextPage: true },
      },
    };
    const dropped: string[] = [];
    const { published, publish } = collect();
    const { marker } = await runSweep(
      "sw-6",
      unfiltered,
      { ...options, dropTolerance: 0.1 },
      { gql: fake([page]), clock: manualClock(0), publish, onDropped: (r) => dropped.push(...r) },
      never,
    );
    expect(published.flat().map((s) => s.login)).toEqual(["s1"]);
    expect(dropped).toHaveLength(2);
    expect(marker).toMatchObject({ complete: false, count: 1, reason: "dropped 2 of 4 streams as invalid" });
  });

  it("tolerates drops within the tolerance, and an answer without the connection is incomplete", async () => {
    const page = {
      streams: {
        edges: [
          { cursor: "a", node: stream(1, 50) },
          { cursor: "b", node: null },
          { cursor: "c", node: stream(3, 5) },
        ],
        pageInfo: { hasNextPage: false },
      },
    };
    const ok = await runSweep(
      "sw-7",
      unfiltered,
      { ...options, dropTolerance: 0.5 },
      { gql: fake([page]), clock: manualClock(0), publish: async () => {} },
      never,
    );
    expect(ok.marker).toMatchObject({ complete: true, count: 1 });
    const bad = await runSweep(
      "sw-8",
      unfiltered,
      options,
      { gql: fake([{ streams: null }]), clock: manualClock(0), publish: async () => {} },
      never,
    );
    expect(bad.marker.complete).toBe(false);
    expect(bad.marker.reason).toMatch(/unexpected answer shape/);
  });

  it("picks the cursor 80% into a page, and never the same one twice", () => {
    const cursors = Array.from({ length: 30 }, (_, i) => `c${i}`);
    expect(nextCursor(cursors, 0.2, null)).toBe("c23");
    expect(nextCursor(cursors, 0, null)).toBe("c29");
    expect(nextCursor(["x"], 0.2, "x")).toBe("x");
    expect(nextCursor(["a", "b"], 0.9, "a")).toBe("b");
    expect(nextCursor([null, null], 0.2, null)).toBe(null);
  });
});
