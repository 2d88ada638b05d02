import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { TAKEDOWN_POLL_MS } from "./takedown-watch.ts";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
const START = "2026-11-20T18:00:00Z";
const playlist = `/m3u8/316574823417/${Date.parse(START) / 1000}/index.m3u8`;
const get = async (url: string) => (await api.app.inject({ method: "GET", url })).statusCode;

beforeAll(async () => {
  tdb = await freshDatabase();
  // Caches on, as a deployment has them: a minute for playlists, as long for lists.
  api = await testApi(tdb.url, { playlistCacheTtlMs: 60_000, listCacheTtlMs: 60_000 });
  await insertVods(tdb.pool, [{ streamId: 316574823417, startTime: START, streamerId: 9100, login: "cached_one" }]);
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

describe("a takedown and the answer caches", () => {
  it("a playlist and a list cached before a forget are not served after it: 410 within the poll interval", async () => {
    expect(await get(playlist)).toBe(200);
    expect(await get("/channels/@cached_one")).toBe(200);
    // What `vods forget` writes, in one transaction.
    await tdb.pool.query(`with t as (insert into takedowns (login, streamer_id, reason, removed_vods)
                            values ('cached_one', 9100, 'asked', 1) returning id),
                          r as (delete from vods where streamer_id = 9100 returning stream_id, start_time, streamer_id, login, video_id)
                          insert into takedown_vods select t.id, r.stream_id, r.start_time, r.streamer_id, r.login, r.video_id from t, r`);
    // Still cached at once: nothing of the row remains in the database to serve it.
    expect(await get(playlist)).toBe(200);
    const deadline = Date.now() + 2 * TAKEDOWN_POLL_MS + 1_000;
    while ((await get(playlist)) !== 410) {
      expect(Date.now(), "the cached playlist outlived the forget").toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await get("/channels/@cached_one")).toBe(410);
  });
});
