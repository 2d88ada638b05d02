import { readFileSync } from "node:fs";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import {
  parseArchiveListing,
  parseStreamerArchives,
  STREAMER_ARCHIVES_BY_LOGIN_QUERY,
  STREAMER_ARCHIVES_QUERY,
  streamerArchivesVariables,
} from "./streamer-archives.ts";

const subset = buildSchema(
  readFileSync(new URL("../../../twitch-sim/schema/twitch-subset.graphql", import.meta.url), "utf8"),
);

const video = (streamId: string, createdAt: string, host = "d1m7jfoe9zdc1j.cloudfront.net") => ({
  node: {
    id: `2${streamId.slice(-6)}`,
    createdAt,
    status: "RECORDED",
    broadcastType: "ARCHIVE",
    // The path key's ts is the start time in Unix seconds, as Twitch's.
    seekPreviewsURL: `https://${host}/e8f4a8b5b2c874439c8c_kuzma671_${streamId}_${Math.floor(Date.parse(createdAt) / 1000)}/storyboards/2${streamId.slice(-6)}-strip-0.jpg`,
  },
});
const user = (edges: unknown[], over: Record<string, unknown> = {}) => ({
  user: {
    id: "1001",
    videos: { edges, pageInfo: { hasNextPage: false } },
    subscriptionProducts: [{ hasSubonlyVideoArchive: false }, { hasSubonlyVideoArchive: false }],
    ...over,
  },
});
const START = "2026-05-15T15:38:12.000Z";

describe("streamer archives query", () => {
  it("is valid against the schema the simulator serves (real Twitch names)", () => {
    expect(validate(subset, parse(STREAMER_ARCHIVES_QUERY))).toEqual([]);
    expect(streamerArchivesVariables("1001")).toEqual({ id: "1001", first: 30 });
    expect(validate(subset, parse(STREAMER_ARCHIVES_BY_LOGIN_QUERY))).toEqual([]);
    expect(STREAMER_ARCHIVES_BY_LOGIN_QUERY).toContain("user(login: $login)");
  });

  it("is public when a listed archive's seekPreviewsURL names the stream id, and gives its host", () => {
    const data = user([video("318688040161", "2026-05-16T10:00:00Z"), video("318688040160", START)]);
    expect(parseStreamerArchives(data, "318688040160", START)).toEqual({
      public: true,
      subOnly: false,
      domain: "d1m7jfoe9zdc1j.cloudfront.net",
    });
  });

  it("does not match the stream id as a mere substring of another id", () => {
    const data = user([video("3186880401601", START)]);
    expect(parseStreamerArchives(data, "318688040160", START).public).toBe(false);
  });

  it("is not public when the complete listing or an older listed archive passes the VOD by", () => {
    expect(parseStreamerArchives(user([]), "318688040160", START)).toEqual({ public: false, subOnly: false });
    const older = { videos: { edges: [video("1", "2026-05-14T00:00:00Z")], pageInfo: { hasNextPage: true } } };
    expect(parseStreamerArchives(user([], older), "318688040160", START).public).toBe(false);
  });

  it("stays unknown when the page ends before the VOD's start, or an edge is unreadable", () => {
    const newer = { videos: { edges: [video("1", "2026-05-16T00:00:00Z")], pageInfo: { hasNextPage: true } } };
    expect(parseStreamerArchives(user([], newer), "318688040160", START).public).toBeNull();
    expect(
      parseStreamerArchives(user([null, video("1", "2026-05-14T00:00:00Z")]), "318688040160", START).public,
    ).toBeNull();
    expect(parseStreamerArchives(user([{ node: { createdAt: 5 } }]), "318688040160", START).public).toBeNull();
  });

  it("reads sub-only archives from any subscription product; unknown without products", () => {
    const sub = user([], {
      subscriptionProducts: [{ hasSubonlyVideoArchive: false }, { hasSubonlyVideoArchive: true }],
    });
    expect(parseStreamerArchives(sub, "318688040160", START).subOnly).toBe(true);
    expect(parseStreamerArchives(user([], { subscriptionProducts: [] }), "318688040160", START).subOnly).toBeNull();
    expect(parseStreamerArchives(user([], { subscriptionProducts: null }), "318688040160", START).subOnly).toBeNull();
    expect(
      parseStreamerArchives(
        user([], { subscriptionProducts: [null, { hasSubonlyVideoArchive: false }] }),
        "318688040160",
        START,
      ).subOnly,
    ).toBeNull();
  });

  it("leaves both unknown for a missing user or an odd answer", () => {
    const unknown = { public: null, subOnly: null };
    expect(parseStreamerArchives({ user: null }, "1", START)).toEqual(unknown);
    expect(parseStreamerArchives(null, "1", START)).toEqual(unknown);
    expect(parseStreamerArchives({ user: { videos: "x" } }, "1", START)).toEqual(unknown);
    expect(parseStreamerArchives(user([], { videos: null }), "1", START)).toEqual({ public: null, subOnly: false });
  });

  it("bounds untrusted text: an over-long URL or a path login out of bounds makes that video unreadable, not the listing", () => {
    const good = video("318688040160", START);
    const long = video("318688040161", "2026-05-16T10:00:00Z");
    long.node.seekPreviewsURL += `?${"x".repeat(3000)}`;
    const oddLogin = video("318688040162", "2026-05-16T11:00:00Z");
    oddLogin.node.seekPreviewsURL = oddLogin.node.seekPreviewsURL.replace("kuzma671", "a".repeat(2700));
    const listing = parseArchiveListing(
      user([long, oddLogin, good], { stream: { id: "9".repeat(3000), createdAt: START } }),
    );
    expect(listing?.videos.map((v) => v.streamId)).toEqual(["318688040160"]);
    expect(listing?.unreadable).toBe(true);
    expect(listing?.live).toBeNull();
  });
});
