import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { insertVods, testApi, type TestApi } from "./testing.ts";
import { v1ItemSchema } from "./v1-schemas.ts";
import { vodByVideoId } from "./video-lookup.ts";

let tdb: TestDatabase;
let api: TestApi;
const get = async (url: string) => {
  const res = await api.app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
};

beforeAll(async () => {
  tdb = await freshDatabase();
  api = await testApi(tdb.url);
  await insertVods(tdb.pool, [
    { streamId: 316574823417, startTime: "2026-11-20T18:00:00Z", streamerId: 9001, login: "with_video" },
    { streamId: 316574823418, startTime: "2026-11-21T18:00:00Z", streamerId: 9001, login: "with_video" },
  ]);
  // Stored as the writer stores it; 2^53 + 1 checks the id survives as text both ways.
  await tdb.pool.query("update vods set video_id = 2644563712 where stream_id = 316574823417");
  await tdb.pool.query("update vods set video_id = 9007199254740993 where stream_id = 316574823418");
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

describe("GET /v1/videos/{videoId}", () => {
  it("answers the archived VOD the video id names, with its videoId, from the archive alone", async () => {
    const res = await get("/v1/videos/2644563712");
    expect(res.status).toBe(200);
    const item = v1ItemSchema.parse(res.body);
    expect(item).toMatchObject({
      streamId: "316574823417",
      startTime: "2026-11-20T18:00:00Z",
      login: "with_video",
      videoId: "2644563712",
      playlist: `/m3u8/316574823417/${Date.parse("2026-11-20T18:00:00Z") / 1000}/index.m3u8`,
    });
    expect((await get("/v1/videos/9007199254740993")).body).toMatchObject({
      streamId: "316574823418",
      videoId: "9007199254740993",
    });
    // The other v1 answers carry it too (null where no listing named the VOD).
    expect((await get("/v1/vods/316574823417/2026-11-20T18:00:00Z")).body).toMatchObject({ videoId: "2644563712" });
    const page = (await get("/v1/vods?login=with_video")).body as { items: { videoId: string | null }[] };
    expect(page.items.map((i) => i.videoId)).toEqual(["9007199254740993", "2644563712"]);
  });

  it("is a 404 naming the problem and what else to give when the archive has no VOD of that video", async () => {
    const res = await get("/v1/videos/2644563799");
    expect(res.status).toBe(404);
    expect(res.body.problems).toEqual([{ parameter: "videoId", problem: "no archived VOD with this video id" }]);
    expect(res.body.message).toMatch(/video 2644563799.*TwitchTracker, StreamsCharts or SullyGnome URL/);
  });

  it("refuses a malformed video id with a 400 naming the parameter", async () => {
    for (const bad of ["v2644563712", "12.5", "99999999999999999999", "9223372036854775808"]) {
      const res = await get(`/v1/videos/${bad}`);
      expect(res.status, bad).toBe(400);
      expect((res.body.problems as { parameter: string }[])[0]?.parameter).toBe("videoId");
    }
    expect((await get("/v1/videos/2644563712?x=1")).status).toBe(400);
  });

  it("is a function the other routes can call: the item's JSON, or null", async () => {
    expect(JSON.parse((await vodByVideoId(api.db, "2644563712"))!)).toMatchObject({ streamId: "316574823417" });
    expect(await vodByVideoId(api.db, "1")).toBeNull();
  });
});
