// recover() given a twitch.tv/videos link: our archive first (no GQL, no CDN request), then GraphQL,
// then what else to paste. Requests are counted by the simulator.
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vods } from "@vod/db";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { LIVE_VOD_DOMAINS, processPlaylist } from "@vod/twitch";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { parseTarget } from "./input.ts";
import { recover, type RecoverOptions } from "./recover.ts";
import { createGqlBatchClient } from "./sources.ts";

const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 2);
let sim: Simulator;
let t: TestDatabase;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 31,
    streams: 0,
    domains: [...DOMAINS],
    streamers: [
      {
        login: "archived_one",
        id: "4001",
        viewers: 500,
        domain: DOMAINS[0],
        sessions: [{ start: "+10m", duration: "30m" }],
      },
      {
        login: "listed_two",
        id: "4002",
        viewers: 400,
        domain: DOMAINS[1],
        sessions: [{ start: "+12m", duration: "30m" }],
      },
    ],
  });
  sim.clock.advance(3 * 3_600_000);
  t = await freshDatabase();
}, 120_000);

afterAll(async () => {
  await t?.drop();
  await sim?.close();
});

const truth = (login: string): VodTruth => sim.vods({ login, state: "ended" })[0]!;
const options = (db = true): RecoverOptions => ({
  domains: DOMAINS,
  urlTemplate: sim.cdnUrlTemplate,
  discoverable: /\.cloudfront\.net$/,
  apiUrl: "http://127.0.0.1:8080",
  scoreHalfLifeMs: 86_400_000,
  cdn: {
    concurrency: 2,
    budget: 100,
    windowMs: 60_000,
    connectTimeoutMs: 1_000,
    headersTimeoutMs: 1_000,
    bodyTimeoutMs: 1_000,
    requestTimeoutMs: 2_000,
  },
  ...(db ? { db: t.db } : {}),
  gql: createGqlBatchClient({ endpoint: sim.gqlUrl, clientId: "test" }),
  now: () => sim.clock.now(),
});
const videoUrl = (id: string) => parseTarget(`https://www.twitch.tv/videos/${id}`);

describe("recover() given a video URL", () => {
  it("answers from our archive when it stored the video id: no GraphQL, no CDN request", async () => {
    const v = truth("archived_one");
    const url = sim.cdnBaseUrl(v.domain) + v.path;
    const playlist = processPlaylist(await (await fetch(url)).text(), url).text;
    await t.db.insert(vods).values({
      streamId: Number(v.streamId),
      startTime: new Date(v.startTime),
      streamerId: Number(v.streamerId),
      login: v.login,
      firstSeen: new Date(v.startTime),
      lastSeen: new Date(v.endedAt!),
      outcome: "found",
      fetchedAt: new Date(sim.clock.now()),
      domain: v.domain,
      url,
      playlistGz: gzipSync(playlist),
      videoId: Number(v.videoId),
    });
    sim.resetStats();
    const r = await recover(videoUrl(v.videoId), undefined, options());
    expect(r).toMatchObject({
      source: "archive",
      requests: 0,
      streamId: v.streamId,
      url: `http://127.0.0.1:8080/m3u8/${v.streamId}/${Date.parse(v.startTime) / 1000}/index.m3u8`,
    });
    expect(sim.stats().gql.requests).toBe(0);
    expect(sim.stats().cdn.requests).toBe(0);
  });

  it("asks GraphQL when the archive does not know the video id", async () => {
    const v = truth("listed_two");
    sim.resetStats();
    const r = await recover(videoUrl(v.videoId), undefined, options());
    expect(r).toMatchObject({ source: "listing", streamId: v.streamId });
    expect(sim.stats().gql.requests).toBe(1);
    expect(sim.stats().cdn.requests).toBe(1);
  });

  it("says what else to paste when neither the archive nor Twitch knows the video", async () => {
    sim.resetStats();
    await expect(recover(videoUrl("99999999901"), undefined, options())).rejects.toThrow(
      /Twitch no longer shows video 99999999901.*TwitchTracker, StreamsCharts or SullyGnome URL/,
    );
    expect(sim.stats().cdn.requests).toBe(0);
  });
});
