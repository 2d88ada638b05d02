import { request } from "node:http";
import { describe, expect, it, vi } from "vitest";
import { VirtualClock } from "./clock.ts";
import { FaultSet } from "./faults.ts";
import type { Simulator } from "./server.ts";
import { admin, get, gqlPost, query, simulatorPerTest } from "./testing.ts";

const sim = simulatorPerTest({
  streams: 0,
  streamers: [
    { login: "a_one", viewers: 9, domain: "vod-secure.twitch.tv", sessions: [{ start: "-2h", duration: "1h" }] },
    {
      login: "b_two",
      viewers: 5,
      domain: "d2nvs31859zcd8.cloudfront.net",
      sessions: [{ start: "-2h", duration: "1h" }],
    },
  ],
});

const playlist = (s: Simulator, login: string) => {
  const vod = s.vods({ login })[0];
  if (!vod) throw new Error(`no VOD for ${login}`);
  return s.playlistUrl(vod);
};

const STREAMS = `{ streams(first: 5) { edges { node { id } } } }`;

describe("faults", () => {
  it("takes every domain but one down for a window of simulated time", async () => {
    const s = await sim();
    const res = await admin<{ added: string[] }>(s, "/admin/faults", {
      add: { kind: "down", except: ["vod-secure.twitch.tv"], status: 502, from: "+5m", for: "15m" },
    });
    expect(res.status).toBe(200);
    expect((await get(playlist(s, "b_two"))).status).toBe(200);
    s.clock.advance(5 * 60_000);
    expect((await get(playlist(s, "b_two"))).status).toBe(502);
    expect((await get(playlist(s, "a_one"))).status).toBe(200);
    s.clock.advance(15 * 60_000);
    expect((await get(playlist(s, "b_two"))).status).toBe(200);
    expect(s.stats().requests).toContainEqual({
      domain: "d2nvs31859zcd8.cloudfront.net",
      kind: "playlist",
      status: 502,
      count: 1,
    });
  });

  it("resets connections", async () => {
    const s = await sim({ faults: [{ kind: "down", mode: "reset", domains: ["vod-secure.twitch.tv"] }] });
    await expect(fetch(playlist(s, "a_one"))).rejects.toThrow();
    expect((await get(playlist(s, "b_two"))).status).toBe(200);
    expect(s.stats().byStatus.reset).toBe(1);
  });

  it("blackholes: accepts the connection and never answers", async () => {
    const s = await sim({ faults: [{ kind: "blackhole", domains: ["vod-secure.twitch.tv"] }] });
    const { hostname, port, pathname } = new URL(playlist(s, "a_one"));
    let answered = false;
    const outcome = new Promise<string>((resolve) => {
      const req = request({ hostname, port, path: pathname }, () => {
        answered = true;
        resolve("answered");
      });
      req.on("error", (err) => resolve(`error: ${err.message}`));
      req.end();
    });
    await vi.waitFor(() => expect(s.stats().byStatus.blackhole).toBe(1), { timeout: 10_000 });
    expect((await get(playlist(s, "b_two"))).status).toBe(200); // other domains unaffected
    await s.close(); // the only way the held request ends
    expect(await outcome).toMatch(/^error/);
    expect(answered).toBe(false);
  });

  it("adds latency to matching requests", async () => {
    const delays: number[] = [];
    const pending: (() => void)[] = [];
    const s = await sim({
      faults: [{ kind: "latency", ms: 1500, target: "gql" }],
      schedule: (ms, fn) => {
        delays.push(ms);
        pending.push(fn);
      },
    });
    let done = false;
    const answer = gqlPost(s, { query: STREAMS }).then((r) => {
      done = true;
      return r;
    });
    await vi.waitFor(() => expect(pending).toHaveLength(1), { timeout: 10_000 });
    expect(done).toBe(false);
    expect(delays).toEqual([1500]);
    expect((await get(playlist(s, "a_one"))).status).toBe(200); // CDN not slowed
    pending[0]?.();
    expect((await answer).status).toBe(200);
  });

  it("rate-limits a client over the threshold with 429", async () => {
    const s = await sim({ faults: [{ kind: "rateLimit", limit: 5, windowMs: "10m" }] });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get(playlist(s, i % 2 ? "a_one" : "b_two"))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(s.stats().byStatus["429"]).toBe(2);
  });

  it("counts rate-limit windows in wall time, blocked requests included", () => {
    let wall = 0;
    const faults = new FaultSet(new VirtualClock(0), 1, () => wall);
    faults.add({ kind: "rateLimit", limit: 2, windowMs: 1000 });
    const verdict = (t: number) => {
      wall = t;
      return faults.verdict("x", "client").action;
    };
    expect([verdict(0), verdict(500), verdict(900)]).toEqual(["pass", "pass", "status"]);
    expect(faults.verdict("x", "other-client").action).toBe("pass");
    // Without the blocked request at 900 only one would be in the window here.
    expect(verdict(1001)).toBe("status");
    expect(verdict(2002)).toBe("pass");
  });

  it("takes GQL down", async () => {
    const s = await sim({ faults: [{ kind: "down", target: "gql", status: 503 }] });
    expect((await gqlPost(s, { query: STREAMS })).status).toBe(503);
    expect((await get(playlist(s, "a_one"))).status).toBe(200);
  });

  it("fails some GQL pages with errors and a null field, still HTTP 200", async () => {
    const s = await sim({ faults: [{ kind: "errors", fields: ["streams"], every: 2, message: "service timeout" }] });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await query<{ streams: unknown }>(s, STREAMS));
    expect(results.map((r) => r.data?.streams === null)).toEqual([false, true, false, true]);
    expect(results[1]?.errors).toEqual([expect.objectContaining({ message: "service timeout", path: ["streams"] })]);
    const user = await query<{ user: { login: string } }>(s, `{ user(login: "a_one") { login } }`);
    expect(user.data?.user.login).toBe("a_one");
  });

  it("is listed, cleared by id or all at once through the admin API", async () => {
    const s = await sim();
    await admin(s, "/admin/faults", {
      add: [
        { id: "gql-down", kind: "down", target: "gql" },
        { kind: "latency", ms: 5 },
      ],
    });
    const listed = await admin<{ faults: { id: string; active: boolean }[] }>(s, "/admin/faults");
    expect(listed.body.faults.map((f) => [f.id, f.active])).toEqual([
      ["gql-down", true],
      ["f2", true],
    ]);
    const cleared = await admin<{ cleared: number; faults: unknown[] }>(s, "/admin/faults", { clear: ["gql-down"] });
    expect(cleared.body).toMatchObject({ cleared: 1 });
    expect(cleared.body.faults).toHaveLength(1);
    expect((await gqlPost(s, { query: STREAMS })).status).toBe(200);
    expect((await admin<{ cleared: number }>(s, "/admin/faults", { clear: "all" })).body.cleared).toBe(1);
    const bad = await admin<{ error: unknown }>(s, "/admin/faults", { add: { kind: "flood" } });
    expect(bad.status).toBe(400);
  });
});

describe("admin API", () => {
  it("advances the virtual clock, reports ground truth and drives streams", async () => {
    const s = await sim();
    const clock = await admin<{ now: string; kind: string }>(s, "/admin/clock", { advance: "90m" });
    expect(clock.body).toMatchObject({ now: "2025-01-06T13:30:00Z", kind: "virtual" });
    const live = await admin<{ login: string; live: boolean; startTime: string }>(s, "/admin/streams/a_one/live", {});
    expect(live.body).toMatchObject({ login: "a_one", live: true, startTime: "2025-01-06T13:30:00Z" });
    const same = await admin<{ variant: string; ts: number; streamId: string }>(s, "/admin/streams/a_one/live", {
      sameStreamId: true,
    });
    expect(same.body).toMatchObject({ variant: "seconds", ts: 0 });
    const ended = await admin<{ live: boolean; endedAt: string }>(s, "/admin/streams/a_one/end", {});
    expect(ended.body.live).toBe(false);
    const vods = await admin<{ total: number; vods: { streamId: string; variant: string }[] }>(
      s,
      "/admin/vods?login=a_one",
    );
    expect(vods.body.total).toBe(3);
    expect(vods.body.vods[1]?.streamId).toBe(vods.body.vods[2]?.streamId);
    const del = await admin<{ deleted: boolean }>(s, "/admin/vods/delete", {
      videoId: s.vods({ login: "b_two" })[0]?.videoId,
    });
    expect(del.body.deleted).toBe(true);
    expect((await admin(s, "/admin/nope")).status).toBe(404);
  });
});
