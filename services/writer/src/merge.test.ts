import { describe, expect, it } from "vitest";
import type { StreamSnapshot, VodFetchResult } from "@vod/kafka";
import { fetchResult, streamSnapshot } from "@vod/testing";
import { joinKnown, mergeResults, mergeSnapshots, outcomeBeats } from "./merge.ts";

const snap = (over: Partial<StreamSnapshot>): StreamSnapshot =>
  streamSnapshot({ streamId: "100", login: "malek_04", ...over });
const result = (over: Partial<VodFetchResult>): VodFetchResult =>
  fetchResult({ streamId: "100", login: "malek_04", ...over });

describe("mergeSnapshots", () => {
  it("folds duplicates of one VOD: viewers and last seen grow, at-start fields from the earliest sighting", () => {
    const rows = mergeSnapshots([
      snap({ observedAt: "2026-05-15T15:05:00.000Z", viewers: 30, title: "later" }),
      snap({ observedAt: "2026-05-15T15:00:00.000Z", viewers: 20, title: "first" }),
      snap({ observedAt: "2026-05-15T15:10:00.000Z", viewers: 5, title: "last", gameName: "Other" }),
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      maxViewers: 30,
      firstSeen: "2026-05-15T15:00:00.000Z",
      lastSeen: "2026-05-15T15:10:00.000Z",
      title: "first",
      gameName: "Chess",
      startFieldsSeenAt: "2026-05-15T15:00:00.000Z",
      sources: [0, 1, 2],
    });
  });

  it("keeps a restart (same stream id, new start time) as its own VOD, ordered by key", () => {
    const rows = mergeSnapshots([snap({ startTime: "2026-05-15T18:00:05.000Z" }), snap({}), snap({ streamId: "99" })]);
    expect(rows.map((r) => [r.streamId, r.startTime])).toEqual([
      ["99", "2026-05-15T14:51:32.123Z"],
      ["100", "2026-05-15T14:51:32.123Z"],
      ["100", "2026-05-15T18:00:05.000Z"],
    ]);
  });

  it("treats the same instant written with another offset as the same VOD", () => {
    expect(mergeSnapshots([snap({}), snap({ startTime: "2026-05-15T16:51:32.123+02:00" })])).toHaveLength(1);
  });
});

describe("mergeResults", () => {
  it("a found outcome is never replaced by a later failure; among equals the later fetch wins", () => {
    const found = result({ outcome: "found", fetchedAt: "2026-05-15T17:00:00.000Z", error: null });
    expect(outcomeBeats(result({}), found)).toBe(false);
    expect(outcomeBeats(found, result({}))).toBe(true);
    expect(outcomeBeats(result({ fetchedAt: "2026-05-15T18:00:00.000Z" }), result({}))).toBe(true);
    expect(outcomeBeats(result({ outcome: "not_found" }), result({}))).toBe(true);

    const rows = mergeResults([result({ fetchedAt: "2026-05-15T16:00:00.000Z" }), found, result({ maxViewers: 80 })]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.result).toBe(found);
    expect(rows[0]!.maxViewers).toBe(80);
  });

  it("gives the same winner whatever the order", () => {
    const inputs = [
      result({}),
      result({ outcome: "not_found", fetchedAt: "2026-05-15T17:20:00.000Z" }),
      result({ outcome: "not_found", fetchedAt: "2026-05-15T17:30:00.000Z" }),
    ];
    const winner = mergeResults(inputs)[0]!.result;
    expect(mergeResults([...inputs].reverse())[0]!.result).toBe(winner);
    expect(winner.fetchedAt).toBe("2026-05-15T17:30:00.000Z");
  });
});

describe("visibility merge", () => {
  it("known beats null, null never erases, true wins between known values; the same whatever the order", () => {
    expect([
      joinKnown(null, null),
      joinKnown(null, false),
      joinKnown(true, null),
      joinKnown(false, true),
      joinKnown(false, false),
    ]).toEqual([null, false, true, true, false]);
    const inputs = [
      result({ visibility: { public: false, subOnly: null } }),
      result({ fetchedAt: "2026-05-15T18:00:00.000Z", visibility: null }),
      result({ fetchedAt: "2026-05-15T19:00:00.000Z" }),
      result({ outcome: "found", error: null, visibility: { public: null, subOnly: true } }),
    ];
    for (const order of [inputs, [...inputs].reverse()]) {
      expect(mergeResults(order)[0]).toMatchObject({ public: false, subOnly: true });
    }
  });
});

describe("MIN_VIEWERS", () => {
  it("skips snapshots under the threshold, so a VOD gets a row only once it reached it, in any order", () => {
    const low = snap({ observedAt: "2026-05-15T15:00:00.000Z", viewers: 7, title: "low" });
    const high = snap({ observedAt: "2026-05-15T15:05:00.000Z", viewers: 12, title: "high" });
    expect(mergeSnapshots([low, snap({ streamId: "101", viewers: 9 })], 10)).toEqual([]);
    for (const order of [
      [low, high],
      [high, low],
    ]) {
      expect(mergeSnapshots(order, 10)).toEqual([
        expect.objectContaining({
          maxViewers: 12,
          title: "high",
          firstSeen: high.observedAt,
          sources: [order.indexOf(high)],
        }),
      ]);
    }
  });

  it("skips results of VODs whose sightings stayed under the threshold, and keeps the delay's sightings of the others", () => {
    expect(mergeResults([result({ maxViewers: 9 })], 10)).toEqual([]);
    const rows = mergeResults(
      [result({ maxViewers: 9, streamId: "5" }), result({ maxViewers: 10, lastSeen: "2026-05-15T16:30:00.000Z" })],
      10,
    );
    expect(rows).toEqual([
      expect.objectContaining({ streamId: "100", maxViewers: 10, lastSeen: "2026-05-15T16:30:00.000Z", sources: [1] }),
    ]);
  });
});
