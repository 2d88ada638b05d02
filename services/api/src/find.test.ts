import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FindResult } from "./find-jobs.ts";
import {
  cancelFind,
  findApi,
  findOptions,
  findWorld,
  localTime,
  readEvents,
  type FindApi,
  type FindWorld,
} from "./find-testing.ts";
import { limitInFlight } from "./overload.ts";

let world: FindWorld;
let api: FindApi;

beforeAll(async () => {
  world = await findWorld();
  await world.archive("archived_one");
  api = await findApi(world, findOptions(world.sim));
}, 120_000);
afterAll(async () => {
  await api?.close();
  await world?.close();
});

const post = (base: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${base}/v1/finds`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const tracker = (login: string) => `https://twitchtracker.com/${login}/streams/${world.truth(login).streamId}`;

describe("Find: the archive first", () => {
  it("a twitch.tv/videos link of an archived VOD answers from the archive with no CDN or GraphQL request", async () => {
    const vod = world.truth("archived_one");
    world.sim.resetStats();
    const res = await post(api.base, { input: `https://www.twitch.tv/videos/${vod.videoId}` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; result: FindResult };
    expect(body.status).toBe("found");
    expect(body.result).toMatchObject({
      source: "archive",
      login: "archived_one",
      streamId: vod.streamId,
      requests: 0,
    });
    expect(body.result.playlist).toBe(
      `/m3u8/${vod.streamId}/${Math.floor(Date.parse(vod.startTime) / 1000)}/index.m3u8`,
    );
    expect((await fetch(`${api.base}${body.result.playlist}`)).status).toBe(200);
    const stats = world.sim.stats();
    expect(stats.cdn.requests).toBe(0);
    expect(stats.gql.requests).toBe(0);
  });

  it("bad input is a 400 naming the field and the problem", async () => {
    const cases: [object, string, RegExp][] = [
      [{ input: "" }, "input", /empty/],
      [{ input: "https://example.com/x" }, "input", /not TwitchTracker/],
      [{ input: "some_channel" }, "time", /give the date and time/],
      [{ input: "some_channel", time: "2026-11-28 14:03", tz: "Mars/Olympus" }, "time", /not a time zone/],
      [{ input: tracker("hidden_one"), time: "2999-01-01T00:00" }, "time", /in the future/],
    ];
    for (const [body, parameter, problem] of cases) {
      const res = await post(api.base, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = (await res.json()) as { problems: { parameter: string; problem: string }[] };
      expect(answer.problems[0]!.parameter).toBe(parameter);
      expect(answer.problems[0]!.problem).toMatch(problem);
    }
  });

  it("a stream id alone that the archive does not know is a 404 asking for the tracker link", async () => {
    const res = await post(api.base, { input: world.truth("hidden_two").streamId });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/tracker/i);
  });
});

describe("Find: a search as a job", () => {
  it("a tracker link and a local time in another zone: progress as server-sent events, then the playlist", async () => {
    const vod = world.truth("hidden_one");
    world.sim.resetStats();
    const res = await post(api.base, {
      input: tracker("hidden_one"),
      time: localTime(vod.startTime, "Asia/Tokyo"),
      tz: "Asia/Tokyo",
    });
    expect(res.status).toBe(202);
    const { id, events: url } = (await res.json()) as { id: string; events: string };
    const events = await readEvents(`${api.base}${url}`);
    const last = events.at(-1)!;
    expect(last.type, JSON.stringify(events)).toBe("found");
    const result = (last as { result: FindResult }).result;
    expect(result).toMatchObject({
      source: "cdn",
      login: "hidden_one",
      streamId: vod.streamId,
      startTime: vod.startTime,
    });
    expect(result.checkedSegments).toBe(3);
    expect(result.deadSegments).toEqual([]);
    // Progress: what was tried, and the requests spent, rising to the result's count.
    expect(events.some((e) => e.type === "progress" && /candidate paths/.test(e.message ?? ""))).toBe(true);
    const counts = events.flatMap((e) => (e.type === "progress" ? [e.requests] : []));
    expect(Math.max(...counts)).toBeGreaterThan(0);
    expect(result.requests).toBe(world.sim.stats().cdn.requests);
    // The playlist, made playable, served by the API; a listener coming late gets the whole story again.
    const playlist = await (await fetch(`${api.base}${result.playlist}`)).text();
    expect(playlist).toMatch(/^#EXTM3U/);
    expect(playlist).toContain(world.sim.cdnBaseUrl(vod.domain));
    expect(await readEvents(`${api.base}${url}`)).toEqual(events);
    // Reconnecting after the end with nothing new: 204, so EventSource stops.
    const again = await fetch(`${api.base}${url}`, { headers: { "last-event-id": String(events.length - 1) } });
    expect(again.status).toBe(204);
    const state = (await (await fetch(`${api.base}/v1/finds/${id}`)).json()) as { status: string };
    expect(state.status).toBe("found");
  }, 60_000);

  it("a progress stream takes no in-flight slot: with a cap of one, the API still answers beside it", async () => {
    const capped = await findApi(world, findOptions(world.sim, { perSecond: 0.5 }));
    limitInFlight(capped.app.server, { maxInFlight: 1, retryAfterSeconds: 1 });
    try {
      const vod = world.truth("hidden_two");
      const started = await post(capped.base, { input: tracker("hidden_two"), time: vod.startTime.slice(0, 16) });
      expect(started.status).toBe(202);
      const { id, events } = (await started.json()) as { id: string; events: string };
      const stream = await fetch(`${capped.base}${events}`);
      expect(stream.status).toBe(200);
      expect((await fetch(`${capped.base}/v1/finds/${id}`)).status).toBe(200);
      await stream.body?.cancel();
      expect(await cancelFind(capped.base, id)).toBe(204);
    } finally {
      await capped.close();
    }
  }, 30_000);
});
