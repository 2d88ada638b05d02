import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "@vod/clock";
import type { StreamSnapshot } from "@vod/kafka";
import { createGqlClient, type GqlClient } from "@vod/twitch";
import { startSimulator, type Simulator } from "@vod/twitch-sim";
import { nextCursor, runSweep, type SweepOptions } from "./sweep.ts";

const options: SweepOptions = { pageSize: 30, overlap: 0.2, minViewers: 10, maxPages: 100, dropTolerance: 0 };
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Scripted streamers with fixed viewers: 70 at 10 or more, 5 below the threshold. */
async function world(extra: Parameters<typeof startSimulator>[0] = {}) {
  const streamers = Array.from({ length: 75 }, (_, i) => ({
    login: `streamer_${i}`,
    id: String(5000 + i),
    viewers: i < 70 ? 10 + i * 7 : i - 70,
    sessions: [{ start: "+0s" }],
  }));
  sim = await startSimulator({ streams: 0, streamers, ...extra });
  return sim;
}

function collect() {
  const published: StreamSnapshot[][] = [];
  return { published, publish: async (s: StreamSnapshot[]) => void published.push(s) };
}

describe("sweep against the simulator", () => {
  it("reads every stream at or above the threshold once, most viewers first, and reports a complete sweep", async () => {
    const s = await world();
    const clock = manualClock(s.clock.now());
    const { published, publish } = collect();
    const marker = await runSweep("sw-1", options, { gql: createGqlClient({ endpoint: s.gqlUrl }), clock, publish }, new AbortController().signal);
    const all = published.flat();
    expect(marker).toMatchObject({ v: 1, sweepId: "sw-1", complete: true, reason: null, count: 70 });
    expect(all).toHaveLength(70);
    expect(new Set(all.map((x) => x.streamerId)).size).toBe(70);
    expect(all.every((x) => x.viewers >= 10 && x.sweepId === "sw-1")).toBe(true);
    expect(all[0]).toMatchObject({ login: "streamer_69", streamerId: "5069", viewers: 10 + 69 * 7, startTime: new Date(s.clock.now()).toISOString() });
    expect(all[0]!.startTime).toMatch(/\.\d{3}Z$/);
    // Overlapping pages saw some streams twice; the sweep published them once.
    expect(published.length).toBeGreaterThanOrEqual(3);
  });

  it("marks the sweep incomplete, with the reason, when GQL keeps failing", async () => {
    const s = await world({ faults: [{ kind: "errors", fields: ["streams"], every: 2, message: "service timeout" }] });
    const { published, publish } = collect();
    const gql = createGqlClient({ endpoint: s.gqlUrl, retries: 0 });
    const marker = await runSweep("sw-2", options, { gql, clock: manualClock(0), publish }, new AbortController().signal);
    expect(marker.complete).toBe(false);
    expect(marker.reason).toMatch(/gql graphql: service timeout/);
    expect(marker.count).toBe(published.flat().length);
  });

  it("rides out intermittent failures with retries and still completes", async () => {
    const s = await world({ faults: [{ kind: "errors", fields: ["streams"], every: 2 }] });
    const { published, publish } = collect();
    const gql = createGqlClient({ endpoint: s.gqlUrl, retries: 2, backoffInitialMs: 1 });
    const marker = await runSweep("sw-3", options, { gql, clock: manualClock(0), publish }, new AbortController().signal);
    expect(marker).toMatchObject({ complete: true, count: 70 });
    expect(published.flat()).toHaveLength(70);
  });

  it("is incomplete when the GQL endpoint is down (HTTP 503)", async () => {
    const s = await world({ faults: [{ kind: "down", target: "gql", status: 503 }] });
    const gql = createGqlClient({ endpoint: s.gqlUrl, retries: 1, backoffInitialMs: 1 });
    const marker = await runSweep("sw-4", options, { gql, clock: manualClock(0), publish: async () => {} }, new AbortController().signal);
    expect(marker).toMatchObject({ complete: false, count: 0 });
    expect(marker.reason).toMatch(/HTTP 503/);
  });

  it("is incomplete when cut short by shutdown", async () => {
    const s = await world();
    const ctrl = new AbortController();
    const gql = createGqlClient({ endpoint: s.gqlUrl });
    const marker = await runSweep("sw-5", options, { gql, clock: manualClock(0), publish: async () => ctrl.abort(new Error("shutdown")) }, ctrl.signal);
    expect(marker).toMatchObject({ complete: false, count: 30, reason: "cut short: shutdown" });
  });
});

describe("sweep against odd answers", () => {
  const stream = (id: number, viewers: number) => ({
    id: String(9000 + id), viewersCount: viewers, createdAt: "2025-01-06T12:00:00Z", type: "live",
    broadcaster: { id: String(100 + id), login: `s${id}`, broadcastSettings: null }, game: null,
  });
  const fake = (pages: unknown[]): GqlClient => {
    let i = 0;
    return { query: async <T>() => ({ data: pages[i++] as T, errors: [] }) };
  };

  it("drops null and invalid streams, counts them, and marks the sweep incomplete beyond the tolerance", async () => {
    const page = { streams: { edges: [{ cursor: "a", node: stream(1, 50) }, { cursor: "b", node: null }, { cursor: "c", node: { ...stream(2, 40), broadcaster: null } }, { cursor: "d", node: stream(3, 5) }], pageInfo: { hasNextPage: true } } };
    const dropped: string[] = [];
    const { published, publish } = collect();
    const marker = await runSweep("sw-6", { ...options, dropTolerance: 0.1 }, { gql: fake([page]), clock: manualClock(0), publish, onDropped: (r) => dropped.push(...r) }, new AbortController().signal);
    expect(published.flat().map((s) => s.login)).toEqual(["s1"]);
    expect(dropped).toHaveLength(2);
    expect(marker).toMatchObject({ complete: false, count: 1, reason: "dropped 2 of 4 streams as invalid" });
  });

  it("tolerates drops within the tolerance, and an answer without the connection is incomplete", async () => {
    const page = { streams: { edges: [{ cursor: "a", node: stream(1, 50) }, { cursor: "b", node: null }, { cursor: "c", node: stream(3, 5) }], pageInfo: { hasNextPage: false } } };
    const ok = await runSweep("sw-7", { ...options, dropTolerance: 0.5 }, { gql: fake([page]), clock: manualClock(0), publish: async () => {} }, new AbortController().signal);
    expect(ok).toMatchObject({ complete: true, count: 1 });
    const bad = await runSweep("sw-8", options, { gql: fake([{ streams: null }]), clock: manualClock(0), publish: async () => {} }, new AbortController().signal);
    expect(bad.complete).toBe(false);
    expect(bad.reason).toMatch(/unexpected answer shape/);
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
