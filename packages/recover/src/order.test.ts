import { describe, expect, it } from "vitest";
import { vodPath } from "@vod/twitch";
import { searchCandidates } from "./order.ts";

const domains = ["a.example", "b.example", "c.example", "d.example"];
const MINUTE = Date.parse("2024-12-28T17:05:00Z");
const M = MINUTE / 1000;
const cold = { domains, streamerDomain: undefined, score: () => 0 };

describe("searchCandidates", () => {
  it("exact: the start, then one second less, on the streamer's domain first; the seconds field last", () => {
    const all = searchCandidates("lirik", "52800169245", { ms: Date.parse("2024-12-28T17:05:54Z"), precision: "second" }, { ...cold, streamerDomain: "c.example" });
    expect(all).toHaveLength(12);
    expect(all.slice(0, 2).map((c) => [c.domain, c.ts])).toEqual([
      ["c.example", 1735405554],
      ["c.example", 1735405553],
    ]);
    expect(all[0]!.path).toBe(vodPath("lirik", "52800169245", 1735405554));
    // The other domains' start comes next; the streamer's seconds-field form before the other domains' −1 s.
    expect(all.slice(2, 5).map((c) => [c.domain, c.variant])).toEqual([
      ["a.example", "start"],
      ["b.example", "start"],
      ["d.example", "start"],
    ]);
    expect(all[5]).toMatchObject({ domain: "c.example", variant: "seconds", band: "seconds-field", ts: 54 });
  });

  it("a minute: every second of it (and the second before) on the streamer's domain, then its neighbouring minutes, then other domains", () => {
    const all = searchCandidates("x", "1", { ms: MINUTE, precision: "minute" }, { ...cold, streamerDomain: "b.example" });
    const first = all.slice(0, 61);
    expect(first.every((c) => c.domain === "b.example" && c.band === "given")).toBe(true);
    expect(new Set(first.map((c) => c.ts))).toEqual(new Set(Array.from({ length: 61 }, (_, i) => M - 1 + i)));
    // Then the minutes either side, still on the streamer's domain.
    const next = all.slice(61, 61 + 119);
    expect(next.every((c) => c.domain === "b.example" && c.band === "neighbour")).toBe(true);
    expect(Math.min(...next.map((c) => c.ts))).toBe(M - 60);
    expect(Math.max(...next.map((c) => c.ts))).toBe(M + 119);
    // Then the minute given on every other domain.
    expect(all.slice(180, 180 + 3 * 60).every((c) => c.domain !== "b.example" && c.band === "given")).toBe(true);
  });

  it("a minute, nothing known: domains by the fetcher's score, each with the minute's starts before the next", () => {
    const score = (d: string) => ({ "c.example": 5, "d.example": 2 })[d] ?? 0;
    const all = searchCandidates("x", "1", { ms: MINUTE, precision: "minute" }, { ...cold, score });
    const order = [...new Set(all.filter((c) => c.band === "given").map((c) => c.domain))];
    expect(order).toEqual(["c.example", "d.example", "a.example", "b.example"]);
    // Each second's start (or the next second's −1 s): 60 per domain; the second before the minute only later.
    expect(all.slice(0, 60).every((c) => c.domain === "c.example")).toBe(true);
    expect(all.slice(60, 120).every((c) => c.domain === "d.example")).toBe(true);
  });

  it("holds each (domain, ts) once and every form of the minute and its neighbours", () => {
    const all = searchCandidates("x", "1", { ms: MINUTE, precision: "minute" }, cold);
    const ids = all.map((c) => `${c.domain} ${c.ts}`);
    expect(new Set(ids).size).toBe(ids.length);
    // Per domain: 181 start/−1 s values (M−61 … M+119) and 60 seconds-field values.
    expect(all.length).toBe(4 * (181 + 60));
    expect(Math.abs(all.reduce((s, c) => s + c.p, 0) - (1 + 2 * 0.05))).toBeLessThan(1e-9);
  });
});
