import { describe, expect, it } from "vitest";
import { ConfigError } from "@vod/config";
import { readEnv } from "./env.ts";

describe("live-poller env", () => {
  it("defaults work against real Twitch", () => {
    const env = readEnv({});
    expect(env).toMatchObject({
      GQL_ENDPOINT: "https://gql.twitch.tv/gql",
      GQL_CLIENT_ID: "kimne78kx3ncx6brgo4mv6wki5h1ko",
      PAGE_SIZE: 30,
      MIN_VIEWERS: 10,
      TRACK_MIN_VIEWERS: 5,
      GQL_BATCH: 10,
      SWEEP_INTERVAL: 300_000,
      GQL_HEADERS: {},
    });
    expect(env.SWEEP_SHARDS.map((s) => s.name)).toEqual(["EN", "ES", "PT", "DE", "RU", "FR", "JA", "KO", "rest"]);
  });

  it("refuses a tracking threshold above the archive threshold, and an unknown language", () => {
    expect(() => readEnv({ TRACK_MIN_VIEWERS: "12" })).toThrow(/TRACK_MIN_VIEWERS: must not exceed MIN_VIEWERS \(10\)/);
    try {
      readEnv({ SWEEP_SHARDS: "EN,KLINGON" });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.field)).toEqual(["SWEEP_SHARDS"]);
    }
  });

  it("names every bad field", () => {
    try {
      readEnv({ PAGE_SIZE: "50", GQL_HEADERS: "not json", SWEEP_INTERVAL: "soon" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.field).sort()).toEqual([
        "GQL_HEADERS",
        "PAGE_SIZE",
        "SWEEP_INTERVAL",
      ]);
    }
  });
});
