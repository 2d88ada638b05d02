import { describe, expect, it } from "vitest";
import { clockFromEnv, manualClock, scaledClock, systemClock } from "./index.ts";

describe("clock", () => {
  it("a scaled clock runs speed times faster from its origin", () => {
    let real = 1_000;
    const clock = scaledClock({ originMs: 50_000, realOriginMs: 1_000, speed: 60 }, () => real);
    expect(clock.now()).toBe(50_000);
    real += 1_000;
    expect(clock.now()).toBe(110_000);
    expect(clock.realDelay(60_000)).toBe(1_000);
  });

  it("two processes given the same origin agree", () => {
    const opts = { originMs: Date.parse("2026-01-01T00:00:00Z"), realOriginMs: 5_000, speed: 120 };
    expect(scaledClock(opts, () => 7_000).now()).toBe(scaledClock(opts, () => 7_000).now());
  });

  it("env without speed or origin is the system clock", () => {
    expect(clockFromEnv({ CLOCK_SPEED: 1 })).toBe(systemClock);
    const c = clockFromEnv({
      CLOCK_SPEED: 10,
      CLOCK_ORIGIN: "2026-01-01T00:00:00Z",
      CLOCK_REAL_ORIGIN: new Date().toISOString(),
    });
    expect(Math.abs(c.now() - Date.parse("2026-01-01T00:00:00Z"))).toBeLessThan(60_000);
  });

  it("a manual clock moves only when told", () => {
    const c = manualClock(10);
    c.advance(5);
    expect(c.now()).toBe(15);
  });
});
