import { describe, expect, it } from "vitest";
import { RealClock, VirtualClock, nextBoundaryAfter } from "./clock.ts";

describe("clocks", () => {
  it("moves a virtual clock only when told, and only forward", () => {
    const c = new VirtualClock(1_000);
    c.advance(500);
    expect(c.now()).toBe(1_500);
    c.set(2_000);
    expect(c.now()).toBe(2_000);
    expect(() => c.set(1_999)).toThrow();
    expect(() => c.advance(-1)).toThrow();
  });

  it("runs a real clock at a speed-up factor, and jumps", () => {
    let wall = 10_000;
    const c = new RealClock(60, 1_000_000, () => wall);
    expect(c.now()).toBe(1_000_000);
    wall += 1_000;
    expect(c.now()).toBe(1_060_000);
    c.advance(5_000);
    expect(c.now()).toBe(1_065_000);
    c.set(2_000_000);
    expect(c.now()).toBe(2_000_000);
    wall += 10;
    expect(c.now()).toBe(2_000_600);
  });

  it("puts boundaries on multiples of the interval since the epoch, strictly after", () => {
    const hour = 3_600_000;
    expect(nextBoundaryAfter(Date.UTC(2025, 0, 1, 10, 59, 59), hour)).toBe(Date.UTC(2025, 0, 1, 11));
    expect(nextBoundaryAfter(Date.UTC(2025, 0, 1, 11), hour)).toBe(Date.UTC(2025, 0, 1, 12));
    expect(nextBoundaryAfter(Date.UTC(2025, 0, 1, 11, 7), 600_000)).toBe(Date.UTC(2025, 0, 1, 11, 10));
  });
});
