import { describe, expect, inject, it } from "vitest";
import { RateLimiter } from "./limiter.ts";
import { SpareTurns } from "./spare.ts";

const RATE = 10;

/** The most starts in any 1000 ms window. */
function busiestSecond(starts: number[]): number {
  const s = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Takes spare turns back to back for `ms`; returns their start times. */
async function searchFor(spare: SpareTurns, ms: number): Promise<number[]> {
  const starts: number[] = [];
  const until = performance.now() + ms;
  const signal = AbortSignal.timeout(ms);
  try {
    while (performance.now() < until) {
      await spare.take(signal);
      starts.push(performance.now());
    }
  } catch (err) {
    if ((err as Error).name !== "TimeoutError") throw err;
  }
  return starts;
}

describe("spare turns of the fetchers' shared CDN budget", () => {
  const redisUrl = inject("redisUrl");
  const budget = (id: string) => ({ redisUrl, id });

  it("the fetchers' busiest second plus the searches stays at the rate; searches get their share, no more", async () => {
    const id = `spare-busy-${process.pid}-${Date.now()}`;
    const fetchers = [1, 2].map(() => new RateLimiter({ perSecond: RATE, floorPerSecond: 1, cluster: budget(id) }));
    const spare = new SpareTurns({ ...budget(id), perSecond: RATE, share: 0.2 });
    await Promise.all([...fetchers.map((f) => f.ready()), spare.ready()]);
    const fetched: number[] = [];
    const stop = new AbortController();
    // Full demand: every fetcher always has requests waiting for their turn.
    const demand = fetchers.map(async (f) => {
      while (!stop.signal.aborted) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            f.schedule(async () => void fetched.push(performance.now()), 5, stop.signal).catch(() => undefined),
          ),
        );
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    const [a, b] = await Promise.all([searchFor(spare, 4_000), searchFor(spare, 4_000)]);
    const searched = [...a!, ...b!];
    const from = Math.min(...searched);
    const to = Math.max(...searched);
    stop.abort();
    await Promise.all(demand);
    const during = fetched.filter((t) => t >= from && t <= to);
    const seconds = (to - from) / 1000;

    expect(busiestSecond([...fetched, ...searched])).toBeLessThanOrEqual(RATE);
    // The share (a fifth of 10 a second) while the fetchers use every turn: about 8 in 4 s.
    expect(searched.length).toBeGreaterThanOrEqual(Math.floor(RATE * 0.2 * seconds * 0.7));
    expect(searched.length).toBeLessThanOrEqual(Math.ceil(RATE * 0.2 * seconds) + 1);
    // The fetchers keep the rest: at least 70% of the rate.
    expect(during.length / seconds).toBeGreaterThanOrEqual(RATE * 0.7);
    await Promise.all([...fetchers.map((f) => f.stop()), spare.close()]);
  }, 30_000);

  it("turns the fetchers leave go to the searches, and the total still keeps the rate", async () => {
    const id = `spare-idle-${process.pid}-${Date.now()}`;
    const fetcher = new RateLimiter({ perSecond: RATE, floorPerSecond: 1, cluster: budget(id) });
    const spare = new SpareTurns({ ...budget(id), perSecond: RATE, share: 0.1 });
    await Promise.all([fetcher.ready(), spare.ready()]);
    // The fetcher asks for one turn in three.
    const fetched: number[] = [];
    const stop = new AbortController();
    const light = (async () => {
      while (!stop.signal.aborted) {
        await fetcher.schedule(async () => void fetched.push(performance.now())).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const searched = await searchFor(spare, 3_000);
    stop.abort();
    await light;
    expect(busiestSecond([...fetched, ...searched])).toBeLessThanOrEqual(RATE);
    // Far more than the 10% share: the turns the fetcher leaves (a turn after an idle spacing).
    expect(searched.length / 3).toBeGreaterThanOrEqual(RATE * 0.25);
    await Promise.all([fetcher.stop(), spare.close()]);
  }, 30_000);

  it("a wider spacing the fetchers took after a 429 holds for the spare turns too", async () => {
    const id = `spare-slow-${process.pid}-${Date.now()}`;
    const fetcher = new RateLimiter({ perSecond: RATE, floorPerSecond: 1, cluster: budget(id) });
    const spare = new SpareTurns({ ...budget(id), perSecond: RATE, share: 1 });
    await Promise.all([fetcher.ready(), spare.ready()]);
    fetcher.rateLimited(400);
    await fetcher.schedule(async () => undefined);
    const searched = await searchFor(spare, 2_000);
    const gaps = searched.slice(1).map((t, i) => t - searched[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(390);
    await Promise.all([fetcher.stop(), spare.close()]);
  }, 30_000);

  it("an aborted take rejects at once", async () => {
    const id = `spare-abort-${process.pid}-${Date.now()}`;
    const spare = new SpareTurns({ ...budget(id), perSecond: 0.1, share: 0.01 });
    await spare.ready();
    await spare.take();
    const ac = new AbortController();
    const t0 = performance.now();
    const waiting = spare.take(ac.signal);
    setTimeout(() => ac.abort(new Error("gone")), 100);
    await expect(waiting).rejects.toThrow("gone");
    expect(performance.now() - t0).toBeLessThan(500);
    await spare.close();
  });
});
