import { readFileSync } from "node:fs";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import type { ArchiveListing, ListedVod } from "@vod/twitch";
import { listedVideoOf, VIDEO_QUERY } from "./sources.ts";

const subset = buildSchema(
  readFileSync(new URL("../../twitch-sim/schema/twitch-subset.graphql", import.meta.url), "utf8"),
);

const video = (streamId: string, ts: number, createdAt = ts): ListedVod => ({
  domain: "d.example",
  key: `k_${streamId}_${ts}`,
  login: "x",
  streamId,
  ts,
  createdAtMs: createdAt * 1000,
  videoId: null,
});
// A same-id restart: two videos of stream 5, twelve minutes apart; newest first, as Twitch lists them.
const M = Date.parse("2026-11-28T14:03:00Z") / 1000;
const listing: ArchiveListing = {
  videos: [video("5", 27, M + 27), video("5", M - 720 + 10), video("6", M + 3)],
  subOnly: false,
  complete: true,
  oldestMs: 0,
  unreadable: false,
  live: null,
};

describe("sources", () => {
  it("the video query is valid against the schema the simulator serves", () => {
    expect(validate(subset, parse(VIDEO_QUERY))).toEqual([]);
  });

  it("a listed video matches the time given, not just the stream id", () => {
    expect(listedVideoOf(listing, "5")?.ts).toBe(27);
    expect(listedVideoOf(listing, "5", { ms: (M - 720) * 1000, precision: "minute" })?.ts).toBe(M - 710);
    expect(listedVideoOf(listing, "5", { ms: (M - 710) * 1000, precision: "second" })?.ts).toBe(M - 710);
    // The restart (its path ts is the seconds field, 27) at 14:03:27.
    expect(listedVideoOf(listing, "5", { ms: (M + 27) * 1000, precision: "second" })?.ts).toBe(27);
    expect(listedVideoOf(listing, "5", { ms: M * 1000, precision: "minute" })?.ts).toBe(27);
    expect(listedVideoOf(listing, "5", { ms: (M + 300) * 1000, precision: "minute" })).toBeUndefined();
    expect(listedVideoOf(listing, "6", { ms: (M + 60) * 1000, precision: "minute" })).toBeUndefined();
  });
});
