import pLimit from "p-limit";
import { describe, expect, it } from "vitest";
import { inSlots } from "./slots.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("inSlots", () => {
  it("gives a batch's slots to another batch while it waits on its slowest item", async () => {
    const slots = pLimit(4);
    const finished: string[] = [];
    let running = 0;
    let most = 0;
    const timed = async (ms: number) => {
      most = Math.max(most, ++running);
      await tick(ms);
      running--;
    };
    // Batch A: one slow item and three quick ones; batch B: four quick ones, started just after.
    const a = inSlots(slots, [200, 10, 10, 10], async (ms) => {
      await timed(ms);
      finished.push(`a${ms}`);
      return ms;
    });
    const b = inSlots(slots, [10, 10, 10, 10], async (ms) => {
      await timed(ms);
      finished.push(`b${ms}`);
      return ms;
    });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual([200, 10, 10, 10]);
    expect(rb).toEqual([10, 10, 10, 10]);
    // Every item of B finished before A's slow one: B ran in the three slots A's quick items left.
    expect(finished.at(-1)).toBe("a200");
    expect(finished.filter((f) => f === "b10")).toHaveLength(4);
    // And the slots are one pool: never more than four at once, both batches together.
    expect(most).toBe(4);
  });

  it("starts no item after a failure and settles only once the items in flight have", async () => {
    const slots = pLimit(2);
    const started: number[] = [];
    let inFlight = 0;
    const run = inSlots(slots, [1, 2, 3, 4, 5], async (n) => {
      started.push(n);
      inFlight++;
      try {
        if (n === 1) throw new Error("one failed");
        await tick(50);
        return n;
      } finally {
        inFlight--;
      }
    });
    await expect(run).rejects.toThrow("one failed");
    // 1 failed at once; 2 was in flight and finished before the call settled; 3, 4 and 5 never started.
    expect(started).toEqual([1, 2]);
    expect(inFlight).toBe(0);
  });
});
