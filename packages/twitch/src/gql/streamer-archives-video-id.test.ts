import { describe, expect, it } from "vitest";
import { parseArchiveListing } from "./streamer-archives.ts";

const START = "2026-05-15T15:38:12.000Z";
const node = (id: unknown, streamId: string) => ({
  node: {
    id,
    createdAt: START,
    seekPreviewsURL: `https://d1m7jfoe9zdc1j.cloudfront.net/e8f4a8b5b2c874439c8c_kuzma671_${streamId}_${Date.parse(START) / 1000}/storyboards/1-strip-0.jpg`,
  },
});
const listing = (edges: unknown[]) =>
  parseArchiveListing({ user: { id: "1001", videos: { edges, pageInfo: { hasNextPage: false } } } });

describe("a listed video's id", () => {
  it("is carried with each listed VOD, as GraphQL names it", () => {
    const read = listing([node("2644563712", "318688040160"), node("2644563713", "318688040161")]);
    expect(read?.videos.map((v) => [v.streamId, v.videoId])).toEqual([
      ["318688040160", "2644563712"],
      ["318688040161", "2644563713"],
    ]);
    expect(read?.unreadable).toBe(false);
  });

  it("is null when missing or not a bigint-sized number; the video is still listed", () => {
    const read = listing([
      node(undefined, "318688040160"),
      node("v123", "318688040161"),
      node("9".repeat(20), "318688040162"),
      node(42, "318688040163"),
    ]);
    expect(read?.videos.map((v) => v.videoId)).toEqual([null, null, null, null]);
    expect(read?.videos).toHaveLength(4);
  });
});
