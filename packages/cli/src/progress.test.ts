import { describe, expect, it } from "vitest";
import { clock, Progress } from "./progress.ts";

const output = (isTTY: boolean) => {
  const written: string[] = [];
  return { out: { isTTY, write: (s: string) => written.push(s) }, written };
};

describe("progress line", () => {
  it("on a terminal: one line redrawn in place, at most every 100 ms, the ETA from this run's rate", () => {
    let now = 0;
    const { out, written } = output(true);
    const p = new Progress(out, { total: 10, doneAtStart: 2, now: () => now });
    p.update("segments", 2, ["0.4 MB"]);
    now = 50;
    p.update("segments", 3);
    now = 2_000;
    p.update("segments", 4, ["0.8 MB"]);
    p.end();
    // 2 done in 2 s since the start (2 were already there): 6 left take 6 s.
    expect(written).toEqual([
      "\rsegments 2/10 · 0.4 MB · ETA ?\x1b[K",
      "\rsegments 4/10 · 0.8 MB · ETA 0:06\x1b[K",
      "\n",
    ]);
  });

  it("elsewhere: whole lines every 5 s, and always when forced", () => {
    let now = 0;
    const { out, written } = output(false);
    const p = new Progress(out, { total: 4, now: () => now });
    p.update("VODs", 0);
    now = 1_000;
    p.update("VODs", 1);
    now = 2_000;
    p.update("VODs", 4, ["found 3"], true);
    p.end();
    expect(written).toEqual(["VODs 0/4 · ETA ?\n", "VODs 4/4 · found 3 · ETA 0:00\n"]);
  });

  it("clock", () => {
    expect([clock(0), clock(65), clock(3_725.4)]).toEqual(["0:00", "1:05", "1:02:05"]);
  });
});
