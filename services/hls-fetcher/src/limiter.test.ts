import { describe, expect, it } from "vitest";
import { RateLimiter } from "./limiter.ts";

describe("RateLimiter", () => {
  it("spaces request starts by at least 1/rate, even when many are queued at once", async () => {
    const limiter = new RateLimiter({ perSecond: 20, floorPerSecond: 1, marginMs: 0 });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 8 }, () => limiter.schedule(async () => void starts.push(performance.now()))));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // Timers may fire late, never early (1 ms of rounding slack).
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(49);
    await limiter.stop();
  });

  it("a 429 doubles the spacing (or honours Retry-After), successes shrink it slowly back, never past the floor", async () => {
    const limiter = new RateLimiter({ perSecond: 3, floorPerSecond: 0.5, marginMs: 10 });
    expect(limiter.minTimeMs).toBe(344);
    limiter.rateLimited();
    expect(limiter.minTimeMs).toBe(688);
    limiter.rateLimited(1_500);
    expect(limiter.minTimeMs).toBe(1_500);
    limiter.rateLimited(60_000);
    expect(limiter.minTimeMs).toBe(2_000);
    limiter.succeeded();
    expect(limiter.minTimeMs).toBe(1_960);
    for (let i = 0; i < 200; i++) limiter.succeeded();
    expect(limiter.minTimeMs).toBe(344);
    await limiter.stop();
  });
});
