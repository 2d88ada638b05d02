import { describe, expect, it } from "vitest";
import { segmentBody } from "./media.ts";

describe("the segment the simulator serves", () => {
  it("is by default a real MPEG-TS segment: whole 188-byte packets, each opening with the sync byte", () => {
    const body = segmentBody("playable")!;
    expect(body.length).toBeGreaterThan(100_000);
    expect(body.length % 188).toBe(0);
    for (let at = 0; at < body.length; at += 188) expect(body[at], `packet at ${at}`).toBe(0x47);
  });

  it("is one packet's default body for benchmarks, and a file that cannot be read is an error", () => {
    expect(segmentBody("packet")).toBeUndefined();
    expect(() => segmentBody("/nonexistent/segment.ts")).toThrow(/ENOENT/);
  });
});
