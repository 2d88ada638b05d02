import { describe, expect, it } from "vitest";
import type { StreamerHistory } from "./knowledge.ts";
import { onCdnPrior } from "./prior.ts";

const NOW = Date.UTC(2026, 10, 28);
const history = (over: Partial<StreamerHistory>): StreamerHistory => ({
  domain: null,
  foundAt: null,
  found: 0,
  notFound: 0,
  unlistedFound: 0,
  checkedAt: NOW - 3_600_000,
  ...over,
});

describe("onCdnPrior", () => {
  it("an unlisted VOD of a streamer whose other VODs are listed is almost surely gone", () => {
    expect(onCdnPrior("unlisted", undefined, NOW)).toBeLessThan(0.01);
    expect(onCdnPrior("unlisted", history({ found: 5 }), NOW)).toBeLessThan(0.01);
  });

  it("an empty listing: the hidden share for a new streamer, falling fast with each VOD not found, back up after a week", () => {
    const fresh = onCdnPrior("empty", undefined, NOW);
    const once = onCdnPrior("empty", history({ notFound: 1 }), NOW);
    const twice = onCdnPrior("empty", history({ notFound: 2 }), NOW);
    expect(fresh).toBeCloseTo(0.09, 5);
    expect(once).toBeLessThan(fresh / 10);
    expect(twice).toBeLessThan(once / 10);
    expect(onCdnPrior("empty", history({ notFound: 9, checkedAt: NOW - 8 * 86_400_000 }), NOW)).toBeCloseTo(fresh, 5);
  });

  it("a streamer found while unlisted hides its VODs: its next VOD is likely on the CDN", () => {
    expect(onCdnPrior("empty", history({ found: 2, unlistedFound: 2 }), NOW)).toBeGreaterThan(0.9);
    expect(onCdnPrior("unknown", history({ found: 2, unlistedFound: 2 }), NOW)).toBeGreaterThan(0.9);
  });

  it("no listing: the base rate for an unknown streamer, the found share once found, near zero for one never found twice", () => {
    expect(onCdnPrior("unknown", undefined, NOW)).toBeCloseTo(0.76, 5);
    expect(onCdnPrior("unknown", history({ found: 8 }), NOW)).toBeGreaterThan(0.9);
    expect(onCdnPrior("unknown", history({ notFound: 2 }), NOW)).toBeLessThan(0.03);
  });
});
