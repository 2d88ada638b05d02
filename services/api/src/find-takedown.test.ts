// Find serves nothing of a streamer who asked to be left out: not from the archive's tombstones, not
// from a search that only learns the login once it has found the VOD.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findApi, findOptions, findWorld, readEvents, type FindApi, type FindWorld } from "./find-testing.ts";

let world: FindWorld;
let api: FindApi;

const post = (input: string) =>
  fetch(`${api.base}/v1/finds`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input }),
  });

/** What `vods forget` leaves: the takedown, a tombstone per removed VOD, the rows gone. */
async function forget(login: string, removeArchived: boolean): Promise<void> {
  await world.tdb.pool.query(
    `with t as (insert into takedowns (login, streamer_id, reason) values ($1, null, 'asked') returning id)
     insert into takedown_vods select t.id, v.stream_id, v.start_time, v.streamer_id, v.login, v.video_id
       from t, vods v where v.login = $1 and $2`,
    [login, removeArchived],
  );
  await world.tdb.pool.query("delete from vods where login = $1", [login]);
}

beforeAll(async () => {
  world = await findWorld();
  api = await findApi(world, findOptions(world.sim));
}, 120_000);
afterAll(async () => {
  await api?.close();
  await world?.close();
});

describe("Find and takedowns", () => {
  it("answers 410 for a forgotten streamer's link, stream id or video, with no CDN request", async () => {
    const vod = await world.archive("hidden_one");
    await forget("hidden_one", true);
    world.sim.resetStats();
    for (const input of [
      `https://twitchtracker.com/hidden_one/streams/${vod.streamId}`,
      vod.streamId,
      `https://www.twitch.tv/videos/${vod.videoId}`,
    ]) {
      const res = await post(input);
      expect(res.status, input).toBe(410);
      expect(((await res.json()) as { message: string }).message).toMatch(/removed .* at the streamer's request/);
    }
    expect(world.sim.stats().cdn.requests).toBe(0);
  });

  it("fails a search whose VOD turns out to be a forgotten streamer's", async () => {
    // Never archived, so no tombstone names its video: only the search learns whose it is.
    const vod = world.truth("archived_one");
    await forget("archived_one", false);
    const res = await post(`https://www.twitch.tv/videos/${vod.videoId}`);
    expect(res.status).toBe(202);
    const { events } = (await res.json()) as { events: string };
    const last = (await readEvents(`${api.base}${events}`)).at(-1)!;
    expect(last).toMatchObject({ type: "failed" });
    expect((last as { message: string }).message).toMatch(/archived_one asked to be left out/);
    expect(await (await fetch(`${api.base}${events.replace(/\/events$/, "/index.m3u8")}`)).status).toBe(404);
  }, 60_000);
});
