import { describe, expect, it } from "vitest";
import { testLog } from "@vod/testing";
import { demoCommand } from "./demo-command.ts";
import { instancesOf } from "./demo-services.ts";
import { UsageError } from "./errors.ts";

describe("vods demo --instances", () => {
  it("runs N delays, N writers and N hls-fetchers, one live-poller", () => {
    expect(instancesOf(1)).toEqual({ writer: 1, "hls-fetcher": 1, delay: 1, "live-poller": 1 });
    expect(instancesOf(3)).toEqual({ writer: 3, "hls-fetcher": 3, delay: 3, "live-poller": 1 });
  });

  it("refuses a count that is not a whole number from 1 to 6, before starting anything", async () => {
    for (const bad of ["0", "7", "2.5", "two"]) {
      await expect(demoCommand(["--instances", bad], testLog)).rejects.toThrow(UsageError);
      await expect(demoCommand(["--instances", bad], testLog)).rejects.toThrow(
        /--instances must be a whole number from 1 to 6/,
      );
    }
  });
});
