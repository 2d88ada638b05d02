import { describe, expect, it } from "vitest";
import { vodFetchResult } from "./catalog.ts";

const result = {
  v: 1,
  streamId: "318688040160",
  startTime: "2026-05-15T15:38:12.000Z",
  streamerId: "1001",
  login: "kuzma671",
  firstSeen: "2026-05-15T15:40:00.000Z",
  lastSeen: "2026-05-15T18:00:00.000Z",
  maxViewers: 40,
  outcome: "not_found",
  fetchedAt: "2026-05-15T19:20:00.000Z",
  requests: 3,
  found: null,
  error: null,
};

describe("a fetch result's video id", () => {
  it("is optional: a message without one (older) stays valid", () => {
    expect(vodFetchResult.parse(result).videoId).toBeUndefined();
  });

  it("is a decimal string that fits a bigint", () => {
    expect(vodFetchResult.parse({ ...result, videoId: "2644563712" }).videoId).toBe("2644563712");
    expect(vodFetchResult.parse({ ...result, videoId: "9223372036854775807" }).videoId).toBe("9223372036854775807");
    for (const bad of ["", "12a", "-1", "9223372036854775808", "1".repeat(20), 2644563712]) {
      const parsed = vodFetchResult.safeParse({ ...result, videoId: bad });
      expect(parsed.success, String(bad)).toBe(false);
    }
  });
});
