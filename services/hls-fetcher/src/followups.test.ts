import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VodFetchRequest } from "@vod/kafka";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { FollowUps } from "./followups.ts";
import { failedResult } from "./poison.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t.drop();
});

const options = {
  retryInitialMs: 60_000,
  retryMaxMs: 600_000,
  retryForMs: 86_400_000,
  deepForMs: 3_600_000,
  deepStopProbability: 0.005,
  deepStopProbabilityStreamer: 0.0005,
};
const T0 = Date.UTC(2026, 0, 5, 12);
const request = (i: number): VodFetchRequest => {
  const at = new Date(T0 - i * 60_000).toISOString();
  return {
    v: 1,
    streamId: String(9_000 + i),
    startTime: at,
    streamerId: String(100 + i),
    login: `s${i}`,
    firstSeen: at,
    lastSeen: at,
    maxViewers: 20,
    releaseAt: at,
  };
};

describe("FollowUps across fetchers", () => {
  it("rows loaded by two fetchers are claimed by exactly one of them: no VOD is retried twice", async () => {
    const writer = new FollowUps(options);
    const requests = Array.from({ length: 40 }, (_, i) => request(i));
    for (const r of requests) writer.apply(r, { result: failedResult(r, "timeout", T0) }, T0);
    await writer.flush(t.db);

    const [a, b] = await Promise.all([FollowUps.load(t.db, options), FollowUps.load(t.db, options)]);
    const later = T0 + 10 * 60_000;
    // Nothing is worked on before it is claimed.
    expect(a.dueRetries(later, 100)).toEqual([]);
    const [ca, cb] = await Promise.all([a.claimLoaded(t.db), b.claimLoaded(t.db)]);
    expect(ca.claimed + cb.claimed).toBe(40);
    expect(ca.lost).toBe(cb.claimed);
    const dueA = a.dueRetries(later, 100).map((r) => r.streamId);
    const dueB = b.dueRetries(later, 100).map((r) => r.streamId);
    expect(dueA.length + dueB.length).toBe(40);
    expect(dueA.filter((id) => dueB.includes(id))).toEqual([]);
  });
});
