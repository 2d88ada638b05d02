import { describe, expect, it } from "vitest";
import type { VodFetchResult } from "@vod/kafka";
import { HeldResults } from "./held-results.ts";

const result = (streamId: string) => ({ streamId, outcome: "found" }) as VodFetchResult;

describe("HeldResults", () => {
  it("keeps a batch's outcomes for its retry, and drops those its partition's next batch starts past", () => {
    const held = new HeldResults(60_000, () => 0);
    held.batchStarts("t", 0, "10");
    held.set("t", 0, "10", result("a"));
    held.set("t", 0, "11", result("b"));
    held.set("t", 1, "10", result("c"));
    // The same batch again (its publish failed): its outcomes are there.
    held.batchStarts("t", 0, "10");
    expect(held.get("t", 0, "11")?.streamId).toBe("b");
    // Partition 0 moves on from offset 12 (the batch was published or handed over and replayed elsewhere).
    held.batchStarts("t", 0, "12");
    expect(held.get("t", 0, "10")).toBeUndefined();
    expect(held.get("t", 0, "11")).toBeUndefined();
    expect(held.get("t", 1, "10")?.streamId).toBe("c");
    expect(held.size).toBe(1);
  });

  it("drops outcomes of a partition that never comes back once they are older than maxAgeMs", () => {
    let now = 0;
    const held = new HeldResults(60_000, () => now);
    for (let i = 0; i < 500; i++) held.set("t", 3, String(i), result(String(i)));
    now = 59_999;
    held.batchStarts("t", 0, "0");
    expect(held.size).toBe(500);
    now = 60_001;
    held.batchStarts("t", 0, "0");
    expect(held.size).toBe(0);
  });
});
