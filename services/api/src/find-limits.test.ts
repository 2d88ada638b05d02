import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelFind, findApi, findOptions, findWorld, type FindApi, type FindWorld } from "./find-testing.ts";

let world: FindWorld;
const apis: FindApi[] = [];

beforeAll(async () => {
  world = await findWorld();
  await world.archive("archived_one");
}, 120_000);
afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
  await world?.close();
});

async function api(over: Parameters<typeof findOptions>[1] = {}, trustProxy = false): Promise<FindApi> {
  // Slow turns: a search of a whole minute stays running while the test asks again.
  const a = await findApi(world, findOptions(world.sim, { perSecond: 0.5, ...over }), trustProxy);
  apis.push(a);
  return a;
}

/** A search of a whole minute in which the VOD did not start (many candidates, none there): it runs until cancelled. */
const longSearch = (login = "hidden_two") => {
  const vod = world.truth(login);
  const wrong = new Date(Date.parse(vod.startTime) + 7 * 60_000).toISOString().slice(0, 16);
  return { input: `https://twitchtracker.com/${login}/streams/${vod.streamId}`, time: wrong };
};

async function post(a: FindApi, body: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${a.base}/v1/finds`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as Record<string, string>,
  };
}

async function cancelAndWait(a: FindApi, id: string, headers: Record<string, string> = {}): Promise<void> {
  expect(await cancelFind(a.base, id, headers)).toBe(204);
}

describe("Find's limits per client", () => {
  it("one running search per client: another is refused 429 with Retry-After and how long, until it ends", async () => {
    const a = await api();
    const first = await post(a, longSearch());
    expect(first.status).toBe(202);
    const second = await post(a, longSearch("hidden_three"));
    expect(second.status, JSON.stringify(second.body)).toBe(429);
    expect(Number(second.retryAfter)).toBeGreaterThan(0);
    expect(second.body.message).toMatch(/still running .*one search at a time.*about 15 s/);
    // The archive still answers at once: its answers spend no CDN request.
    const archived = await post(a, { input: `twitch.tv/videos/${world.truth("archived_one").videoId}` });
    expect(archived.status).toBe(200);
    await cancelAndWait(a, first.body.id!);
    const third = await post(a, longSearch("hidden_three"));
    expect(third.status).toBe(202);
    await cancelAndWait(a, third.body.id!);
  }, 30_000);

  it("a few searches an hour: past them 429, Retry-After counting to the oldest's hour", async () => {
    const a = await api({ perClientPerHour: 2 });
    for (let i = 0; i < 2; i++) {
      const ok = await post(a, longSearch());
      expect(ok.status).toBe(202);
      await cancelAndWait(a, ok.body.id!);
    }
    const refused = await post(a, longSearch());
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(3_500);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(3_600);
    expect(refused.body.message).toMatch(/2 searches in the last hour.*the next in 60 min/);
  }, 30_000);

  it("behind a trusted proxy each forwarded address is a client; untrusted, X-Forwarded-For changes nothing", async () => {
    const trusting = await api({}, true);
    const one = { "x-forwarded-for": "203.0.113.1" };
    const two = { "x-forwarded-for": "203.0.113.2" };
    const a = await post(trusting, longSearch(), one);
    const b = await post(trusting, longSearch("hidden_three"), two);
    expect([a.status, b.status]).toEqual([202, 202]);
    // Only its own client may cancel a search.
    expect((await fetch(`${trusting.base}/v1/finds/${a.body.id}`, { method: "DELETE", headers: two })).status).toBe(
      404,
    );
    await cancelAndWait(trusting, a.body.id!, one);
    await cancelAndWait(trusting, b.body.id!, two);

    const untrusting = await api();
    const c = await post(untrusting, longSearch(), one);
    const d = await post(untrusting, longSearch("hidden_three"), two);
    expect([c.status, d.status]).toEqual([202, 429]);
    await cancelAndWait(untrusting, c.body.id!);
  }, 30_000);

  it("searches running in all are capped: one more is refused 429 saying when to ask again", async () => {
    const a = await api({ maxRunning: 1 }, true);
    const first = await post(a, longSearch(), { "x-forwarded-for": "203.0.113.7" });
    expect(first.status).toBe(202);
    const other = await post(a, longSearch("hidden_three"), { "x-forwarded-for": "203.0.113.8" });
    expect(other.status).toBe(429);
    expect(other.retryAfter).toBe("15");
    expect(other.body.message).toMatch(/1 searches are running.*ask again in about 15 s/);
    await cancelAndWait(a, first.body.id!, { "x-forwarded-for": "203.0.113.7" });
  }, 30_000);

  it("without the fetchers' budget (no REDIS_URL) the archive still answers, and a search is refused 503 saying why", async () => {
    const { budget: _none, ...noBudget } = findOptions(world.sim);
    const a = await findApi(world, noBudget);
    apis.push(a);
    expect((await post(a, { input: `twitch.tv/videos/${world.truth("archived_one").videoId}` })).status).toBe(200);
    const refused = await post(a, longSearch());
    expect(refused.status).toBe(503);
    expect(refused.body.message).toMatch(/REDIS_URL/);
  });
});
