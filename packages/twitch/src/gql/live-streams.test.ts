import { readFileSync } from "node:fs";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import {
  LIVE_STREAMS_QUERY,
  LIVE_USERS_QUERY,
  liveStreamsVariables,
  parseLiveStreamsPage,
  parseLiveUsers,
} from "./live-streams.ts";

const subset = buildSchema(
  readFileSync(new URL("../../../twitch-sim/schema/twitch-subset.graphql", import.meta.url), "utf8"),
);

const stream = (over: Record<string, unknown> = {}) => ({
  id: "318688040160",
  viewersCount: 120,
  createdAt: "2026-05-15T15:38:12Z",
  type: "live",
  broadcaster: {
    id: "1001",
    login: "malek_04",
    displayName: "Malek_04",
    broadcastSettings: { title: "hi", language: "EN", isMature: false },
  },
  game: { id: "509658", name: "Just Chatting", displayName: "Just Chatting" },
  ...over,
});

describe("live streams query", () => {
  it("is valid against the schema the simulator serves (real Twitch names)", () => {
    expect(validate(subset, parse(LIVE_STREAMS_QUERY))).toEqual([]);
    expect(liveStreamsVariables(30, null)).toEqual({ first: 30, after: null, options: { sort: "VIEWER_COUNT" } });
  });

  it("maps a stream and normalizes the start time to ISO with milliseconds", () => {
    const r = parseLiveStreamsPage({
      streams: { edges: [{ cursor: "c1", node: stream() }], pageInfo: { hasNextPage: true } },
    });
    expect(r).toEqual({
      ok: true,
      page: {
        streams: [
          {
            streamId: "318688040160",
            startTime: "2026-05-15T15:38:12.000Z",
            streamerId: "1001",
            login: "malek_04",
            viewers: 120,
            title: "hi",
            gameId: "509658",
            gameName: "Just Chatting",
            language: "EN",
            mature: false,
            type: "live",
          },
        ],
        cursors: ["c1"],
        viewers: [120],
        hasNextPage: true,
        dropped: [],
      },
    });
  });

  it("drops and counts odd edges (null node, missing broadcaster, null createdAt) but keeps the rest", () => {
    const r = parseLiveStreamsPage({
      streams: {
        edges: [
          null,
          { cursor: "a", node: null },
          { cursor: "b", node: stream({ broadcaster: null }) },
          { cursor: "c", node: stream({ createdAt: null, viewersCount: 40 }) },
          { cursor: "d", node: stream({ game: null, broadcaster: { id: "7", login: "x", broadcastSettings: null } }) },
        ],
        pageInfo: null,
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.page.dropped).toHaveLength(4);
    expect(r.page.streams.map((s) => [s.streamerId, s.gameId, s.title])).toEqual([["7", null, null]]);
    expect(r.page.cursors).toEqual([null, "a", "b", "c", "d"]);
    expect(r.page.viewers).toEqual([null, null, 120, 40, 120]);
    expect(r.page.hasNextPage).toBe(false);
  });

  it("refuses an answer without a streams connection", () => {
    expect(parseLiveStreamsPage({ streams: null }).ok).toBe(false);
    expect(parseLiveStreamsPage(null).ok).toBe(false);
  });
});

describe("live users query", () => {
  it("is valid against the schema the simulator serves", () => {
    expect(validate(subset, parse(LIVE_USERS_QUERY))).toEqual([]);
  });

  it("keeps the live streams of the users answered, skips offline and unknown users, drops odd streams", () => {
    const r = parseLiveUsers({
      users: [
        { id: "1001", stream: stream() },
        { id: "1002", stream: null },
        null,
        { id: "1003", stream: stream({ id: "x" }) },
      ],
    });
    expect(r.ok && r.streams.map((s) => [s.streamerId, s.streamId, s.viewers])).toEqual([
      ["1001", "318688040160", 120],
    ]);
    expect(r.ok && r.dropped).toEqual([expect.stringMatching(/^invalid stream: id/)]);
    expect(parseLiveUsers({ users: "no" })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unexpected answer shape/),
    });
  });
});
