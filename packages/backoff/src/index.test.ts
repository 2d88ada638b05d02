import { describe, expect, it } from "vitest";
import { backoffDelay, sleep } from "./index.ts";

describe("backoffDelay", () => {
  it("doubles from initialMs up to maxMs, jittered within the upper half", () => {
    const opts = { initialMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, opts, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, opts, () => 0))).toEqual([50, 100, 200, 400, 500]);
  });
});

describe("sleep", () => {
  it("resolves early when the signal aborts", async () => {
    const c = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, c.signal);
    c.abort();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
