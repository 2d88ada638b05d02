import { describe, expect, it } from "vitest";
import { vodPath } from "@vod/twitch";
import { searchCandidates } from "./order.ts";

const domains = ["a.example", "b.example", "c.example", "d.example"];
const MINUTE = Date.parse("2024-12-28T17:05:00Z");
const M = MINUTE / 1000;
const cold = { domains, streamerDomain: undefined, score: () => 0 };

describe("searchCandidates", () => {
  it("exact: the start, then one second less, on the streamer's domain first; the seconds field last", () => {
    const all = searchCandidates(
      "lirik",
      "52800169245",
      { ms: Date.parse("2024-12-28T17:05:54Z"), precision: "second" },
      { ...cold, streamerDomain: "c.example" },
    );
    expect(all).toHaveLength(12);
    expect(all.slice(0, 2).map((c) => [c.domain, c.ts])).toEqual([
      ["c.example", 1735405554],
      ["c.example", 1735405553],
    ]);
    expect(all[0]!.path).toBe(vodPath("lirik", "52800169245", 1735405554));
    // Every domain's start and −1 s come before any seconds-field form (a same-id restart).
    const firstSeconds = all.findIndex((c) => c.band === "seconds-field");
    expect(firstSeconds).toBe(8);
    expect(all.slice(firstSeconds).every((c) => c.ts === 54 && c.variant === "seconds")).toBe(true);
    expect(all[8]!.domain).toBe("c.example");
  });

  it("a minute: every second of it on the streamer's domain, then on the other domains; then the seconds field; the minutes either side last", () => {
    const all = searchCandidates(
      "x",
      "1",
      { ms: MINUTE, precision: "minute" },
      { ...cold, streamerDomain: "b.example" },
    );
    const first = all.slice(0, 61);
    expect(first.every((c) => c.domain === "b.example" && c.band === "given")).toBe(true);
    // Every start in the minute, and the second before it (the first second's −1 s).
    expect(new Set(first.map((c) => c.ts))).toEqual(new Set(Array.from({ length: 61 }, (_, i) => M - 1 + i)));
    expect(all.slice(61, 61 + 3 * 61).every((c) => c.domain !== "b.example" && c.band === "given")).toBe(true);
    const seconds = all.slice(244, 244 + 4 * 60);
    expect(seconds.every((c) => c.band === "seconds-field" && c.ts < 60)).toBe(true);
    expect(seconds.slice(0, 60).every((c) => c.domain === "b.example")).toBe(true);
    const neighbours = all.slice(484);
    expect(neighbours).toHaveLength(4 * 120);
    expect(neighbours.every((c) => c.band === "neighbour")).toBe(true);
    // On the streamer's domain first: the minute before (M−61 … M−2) and the minute after (M+60 … M+119).
    expect(neighbours.slice(0, 120).every((c) => c.domain === "b.example")).toBe(true);
    expect(Math.min(...neighbours.map((c) => c.ts))).toBe(M - 61);
    expect(Math.max(...neighbours.map((c) => c.ts))).toBe(M + 119);
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
