import { describe, expect, it } from "vitest";
import { backoffDelay, DeadlineError, sleep, withDeadline } from "./index.ts";

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

describe("withDeadline", () => {
  it("rejects a wait that never ends once its deadline passes, naming it", async () => {
    const started = Date.now();
    const never = new Promise<never>(() => undefined);
    await expect(withDeadline(never, 50, "a send")).rejects.toThrow(DeadlineError);
    await expect(withDeadline(never, 50, "a send")).rejects.toThrow(/a send did not finish within 50 ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("passes a result or an error of work that ends in time", async () => {
    await expect(withDeadline(Promise.resolve(7), 1_000, "x")).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error("boom")), 1_000, "x")).rejects.toThrow("boom");
  });
});
