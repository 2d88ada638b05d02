import { describe, expect, it } from "vitest";
import { vodPath } from "../vod-path.ts";
import { orderCandidates, posterior } from "./candidates.ts";

const domains = ["a.example", "b.example", "c.example", "d.example"];
const start = new Date("2024-12-28T17:05:54.000Z");
const none = { start: 0, minus1: 0, seconds: 0 };
const key = (c: { domain: string; variant: string }) => `${c.domain}/${c.variant}`;

describe("orderCandidates", () => {
  it("offers every domain × timestamp once, with the sha1 path of that timestamp", () => {
    const all = orderCandidates("lirik", "52800169245", start, {
      domains,
      streamerDomain: undefined,
      score: () => 0,
      variantHits: none,
    });
    expect(all).toHaveLength(12);
    expect(new Set(all.map(key)).size).toBe(12);
    expect(all.find((c) => c.domain === "b.example" && c.variant === "start")!.path).toBe(
      vodPath("lirik", "52800169245", 1735405554),
    );
    expect(all.find((c) => c.variant === "seconds")!.ts).toBe(54);
  });

  it("cold: the plain start time on every domain (in configured order) before any variant", () => {
    const all = orderCandidates("x", "1", start, {
      domains,
      streamerDomain: undefined,
      score: () => 0,
      variantHits: none,
    });
    expect(all.slice(0, 4).map(key)).toEqual([
      "a.example/start",
      "b.example/start",
      "c.example/start",
      "d.example/start",
    ]);
    expect(all.slice(4, 8).every((c) => c.variant === "minus1")).toBe(true);
  });

  it("the streamer's own domain first with all its variants, then domains by recent success", () => {
    const score = (d: string) => ({ "c.example": 40, "d.example": 5 })[d] ?? 0;
    const all = orderCandidates("x", "1", start, { domains, streamerDomain: "b.example", score, variantHits: none });
    // The seconds field is a restart's form: without the flag it comes after the likely domains' plain start times.
    expect(all.slice(0, 5).map(key)).toEqual([
      "b.example/start",
      "b.example/minus1",
      "c.example/start",
      "d.example/start",
      "c.example/minus1",
    ]);
    expect(all.findIndex((c) => c.variant === "seconds")).toBeGreaterThanOrEqual(5);
  });

  it("a flagged same-id restart tries the seconds field first; probabilities sum to 1", () => {
    const all = orderCandidates("x", "1", start, {
      domains,
      streamerDomain: "b.example",
      score: () => 0,
      variantHits: none,
      restart: true,
    });
    expect(key(all[0]!)).toBe("b.example/seconds");
    expect(all.reduce((s, c) => s + c.p, 0)).toBeCloseTo(1, 9);
  });

  it("a streamer domain that is no longer configured is ignored", () => {
    const all = orderCandidates("x", "1", start, {
      domains,
      streamerDomain: "gone.example",
      score: () => 0,
      variantHits: none,
    });
    expect(all[0]!.domain).toBe("a.example");
    expect(all.some((c) => c.domain === "gone.example")).toBe(false);
  });
});

describe("posterior", () => {
  it("falls as candidates miss, to 0 once every candidate missed", () => {
    expect(posterior(0.5, 0)).toBe(0.5);
    expect(posterior(0.5, 0.5)).toBeCloseTo(1 / 3, 9);
    expect(posterior(0.1, 0.9)).toBeLessThan(0.02);
    expect(posterior(0.9, 1)).toBe(0);
  });
});
