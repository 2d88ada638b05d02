import { describe, expect, it } from "vitest";
import { ConfigError } from "@vod/config";
import { readEnv } from "./env.ts";

describe("delay env", () => {
  it("defaults are the design's timing rules", () => {
    expect(readEnv({})).toMatchObject({
      END_AFTER: 900_000,
      MUTE_INTERVAL: 3_600_000,
      MUTE_MIN_GAP: 300_000,
      MUTE_MARGIN: 600_000,
      GROUP_ID: "delay",
    });
  });

  it("names every bad field", () => {
    try {
      readEnv({ END_AFTER: "15 minutes", RECENT_SWEEPS: "1" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.field).sort()).toEqual(["END_AFTER", "RECENT_SWEEPS"]);
    }
  });
});
