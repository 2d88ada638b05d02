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

  it("bounds untrusted text: a 2.7 KB login or an id past bigint drops that stream; a 1 MB title is cut to 1 KB", () => {
    const title = `${"é".repeat(511)}😀${"x".repeat(1_100_000)}`;
    const r = parseLiveStreamsPage({
      streams: {
        edges: [
          { cursor: "a", node: stream({ broadcaster: { id: "1", login: "a".repeat(2700) } }) },
          { cursor: "b", node: stream({ id: "99999999999999999999" }) },
          { cursor: "c", node: stream({ broadcaster: { id: "9223372036854775808", login: "big" } }) },
          { cursor: "d", node: stream({ broadcaster: { id: "2", login: "bad login" } }) },
          {
            cursor: "e",
            node: stream({
              broadcaster: { id: "3", login: "Mixed_Case", broadcastSettings: { title, language: "x".repeat(3000) } },
              game: { id: "x".repeat(3000), name: "g".repeat(3000) },
              type: "t".repeat(100),
            }),
          },
        ],
        pageInfo: { hasNextPage: true },
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.page.dropped).toEqual([
      "invalid stream: broadcaster.login: login over 25 characters",
      expect.stringMatching(/^invalid stream: id: /),
      "invalid stream: broadcaster.id: id over the bigint range",
      expect.stringMatching(/^invalid stream: broadcaster\.login: login outside/),
    ]);
    expect(r.page.cursors).toHaveLength(5);
    expect(r.page.hasNextPage).toBe(true);
    const [s] = r.page.streams;
    expect(s).toMatchObject({ login: "mixed_case", language: null, gameId: null, gameName: "g".repeat(256) });
    expect(s!.type).toHaveLength(32);
    // 511 two-byte characters, then a four-byte one that would cross 1,024 bytes: cut before it.
    expect(s!.title).toBe("é".repeat(511));
    expect(Buffer.byteLength(s!.title!)).toBe(1022);
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
