import { describe, expect, it } from "vitest";
import { releaseTime } from "./release-time.ts";

const t = { muteIntervalMs: 3_600_000, muteMinGapMs: 300_000, muteMarginMs: 600_000 };
const at = (s: string) => Date.parse(s);

describe("release time", () => {
  it.each([
    ["12:00:00", "13:10:00"],
    ["12:54:59", "13:10:00"],
    ["12:55:00", "13:10:00"],
    ["12:55:01", "14:10:00"],
    ["12:30:00", "13:10:00"],
    ["11:59:59", "13:10:00"],
  ])("last seen %s → %s: the first boundary at least 5 min later, plus 10 min", (seen, release) => {
    expect(new Date(releaseTime(at(`2025-01-06T${seen}.000Z`), t)).toISOString()).toBe(`2025-01-06T${release}.000Z`);
  });

  it("is never earlier than last sighting + gap + margin", () => {
    for (let s = 0; s < 7_200_000; s += 61_000) expect(releaseTime(s, t)).toBeGreaterThanOrEqual(s + 900_000);
  });
});
