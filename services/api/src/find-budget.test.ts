// The page's searches and the fetchers share one CDN budget: with the fetchers' limiter at full demand on the
// same Redis id, a search still ends (on its share), and the simulator's CDN never sees more than the rate.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimiter } from "@vod/cdn-budget";
import type { FindResult } from "./find-jobs.ts";
import { findApi, findOptions, findWorld, readEvents, type FindApi, type FindWorld } from "./find-testing.ts";

const RATE = 10;

let world: FindWorld;
let api: FindApi;
let fetchers: RateLimiter[];
let budget: NonNullable<ReturnType<typeof findOptions>["budget"]>;

beforeAll(async () => {
  world = await findWorld();
  const options = findOptions(world.sim, { perSecond: RATE });
  budget = options.budget!;
  api = await findApi(world, options);
  fetchers = [1, 2].map(
    () =>
      new RateLimiter({
        perSecond: RATE,
        floorPerSecond: 1,
        cluster: { redisUrl: budget.redisUrl, id: budget.id },
      }),
  );
  await Promise.all(fetchers.map((f) => f.ready()));
}, 120_000);
afterAll(async () => {
  await Promise.all((fetchers ?? []).map((f) => f.stop()));
  await api?.close();
  await world?.close();
});

describe("Find in the fetchers' CDN budget", () => {
  it("the fetchers at full demand plus a search: the CDN's busiest second stays at the rate, and the search ends", async () => {
    const vod = world.truth("hidden_three");
    // The fetchers' own work: GETs of paths that are not there, always more waiting than the rate allows.
    const missing = `${world.sim.cdnBaseUrl(vod.domain)}nothing_here/chunked/index-dvr.m3u8`;
    const stop = new AbortController();
    let fetched = 0;
    const demand = fetchers.map(async (f) => {
      while (!stop.signal.aborted) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            f
              .schedule(
                async () => {
                  fetched++;
                  await (await fetch(missing)).arrayBuffer();
                },
                5,
                stop.signal,
              )
              .catch(() => undefined),
          ),
        );
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    world.sim.resetStats();
    const fetchedBefore = fetched;
    const t0 = performance.now();

    const res = await fetch(`${api.base}/v1/finds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        input: `https://twitchtracker.com/${vod.login}/streams/${vod.streamId}`,
        time: vod.startTime,
      }),
    });
    expect(res.status).toBe(202);
    const { events } = (await res.json()) as { events: string };
    const all = await readEvents(`${api.base}${events}`);
    const seconds = (performance.now() - t0) / 1000;
    stop.abort();
    await Promise.all(demand);

    const last = all.at(-1)!;
    expect(last.type, JSON.stringify(all)).toBe("found");
    const result = (last as { result: FindResult }).result;
    expect(result.streamId).toBe(vod.streamId);
    const stats = world.sim.stats();
    // At the server, fetchers and search together: no second over the rate, allowing arrivals to bunch by
    // 100 ms on their way (one loaded event loop runs the simulator, the API and the fetchers here), as the
    // fleet test measures the fetchers alone.
    expect(stats.cdn.maxIn900ms).toBeLessThanOrEqual(RATE);
    // The fetchers kept most of the rate while the search ran on its share.
    expect((fetched - fetchedBefore) / seconds).toBeGreaterThanOrEqual(RATE * 0.6);
    expect(result.requests).toBeGreaterThan(0);
  }, 90_000);
});
