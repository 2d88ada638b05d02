// The soak's judge: which VODs count, which are missed, early, truncated or duplicated.
import { describe, expect, it } from "vitest";
import type { VodTruth } from "@vod/twitch-sim";
import { faultSchedule } from "../bench/soak/run.ts";
import {
  drainTimes,
  judge,
  percentile,
  type ArchivedRow,
  type LagSample,
  type Release,
} from "../bench/soak/measure.ts";

const MIN = 60_000;
const T0 = Date.parse("2026-11-28T00:00:00.000Z");
const at = (min: number) => new Date(T0 + min * MIN).toISOString();

function vod(id: number, over: Partial<VodTruth> = {}): VodTruth {
  return {
    login: `s${id}`,
    streamerId: String(id),
    streamId: String(1000 + id),
    videoId: String(id),
    startTime: at(0),
    ts: 0,
    variant: "start",
    domain: "d",
    homeDomain: "d",
    scattered: false,
    migrated: false,
    migratedHere: false,
    unconfiguredDomain: false,
    path: "p",
    live: false,
    endedAt: at(30),
    saved: true,
    archivingOff: false,
    onCdn: true,
    cdnUntil: null,
    deletedAt: null,
    deleted: false,
    public: true,
    hidden: false,
    subOnly: false,
    listedAt: null,
    peakViewers: 50,
    falseStart: false,
    newStreamer: false,
    streamerCreatedAt: at(-10_000),
    muted: [],
    muteRunAt: at(60),
    muteApplied: true,
    segments: 10,
    mutedSegmentsNow: 0,
    ...over,
  };
}
const row = (v: VodTruth, over: Partial<ArchivedRow> = {}): ArchivedRow => ({
  streamId: v.streamId,
  startTime: v.startTime,
  outcome: "found",
  fetchedAt: at(75),
  segments: v.segments,
  endlist: true,
  ...over,
});
const release = (v: VodTruth, min = 70): Release => ({
  streamId: v.streamId,
  startTime: v.startTime,
  releaseAt: at(min),
});

describe("the soak's judge", () => {
  it("counts VODs that reached the threshold and were due, and sorts out missed, early, truncated and duplicated ones", () => {
    const ok = vod(1);
    const small = vod(2, { peakViewers: 9 });
    const late = vod(3, { muteRunAt: at(600) });
    const missed = vod(4);
    const gone = vod(5, { cdnUntil: at(65) });
    const early = vod(6);
    const truncated = vod(7);
    const dup = vod(8);
    // Due at 70, deleted at 80 (playlist gone at 82), fetched at 90: missed, and the report says why.
    const deletedLater = vod(9, { cdnUntil: at(82) });
    const truth = [ok, small, late, missed, gone, early, truncated, dup, deletedLater];
    const rows = [
      row(ok),
      row(early, { fetchedAt: at(50) }),
      row(truncated, { endlist: false }),
      row(dup),
      { ...row(missed), outcome: "not_found" as const },
      { ...row(deletedLater), outcome: "not_found" as const, fetchedAt: at(90) },
    ];
    const releases = [
      release(ok),
      release(early, 45),
      release(truncated),
      release(dup),
      release(dup),
      release(missed),
      release(deletedLater),
    ];
    const j = judge({
      truth,
      endedFrom: T0,
      rows,
      releases,
      dueBefore: T0 + 300 * MIN,
      minViewers: 10,
      muteMarginMs: 10 * MIN,
      faults: [],
    });
    expect(j.vods).toBe(7); // not the small one, nor the one due after the run
    expect(j.onCdnWhenDue).toBe(6); // `gone` left the CDN before it was due
    expect(j.archived).toBe(4);
    expect(j.missed).toBe(2);
    expect(j.missedBy).toEqual({ "outcome not_found": 1, "outcome not_found, deleted before the fetch": 1 });
    expect(j.early).toBe(1);
    expect(j.truncated).toBe(1);
    expect(j.duplicates).toBe(1);
    expect(j.latencyP50Min).toBe(5);
  });

  it("names why a VOD was missed and puts latency in fault windows apart", () => {
    const never = vod(1);
    const seen = vod(2);
    const slow = vod(3);
    const j = judge({
      truth: [never, seen, slow, vod(4), vod(9, { endedAt: at(-30) })],
      endedFrom: T0,
      rows: [
        { ...row(seen), outcome: null, fetchedAt: null },
        { ...row(vod(4)), outcome: null, fetchedAt: null, maxViewers: 8 },
        row(slow, { fetchedAt: at(100) }),
      ],
      releases: [release(slow, 70)],
      dueBefore: T0 + 300 * MIN,
      minViewers: 10,
      muteMarginMs: 10 * MIN,
      faults: [{ name: "f", from: T0 + 65 * MIN, until: T0 + 80 * MIN }],
    });
    expect(j.missedBy).toEqual({ "never seen": 1, "seen, never released": 1, "seen, never at 10 in a sweep": 1 });
    expect(j.latencyInFaultsP99Min).toBe(30);
    expect(j.latencyP99Min).toBe(0);
  });

  it("times a backlog's drain against its usual lag at that point of the hour, not against the lag before the fault", () => {
    // Every hour the fetch backlog jumps to 600 at the mute run and is worked off in 40 minutes.
    const usual = (min: number) => {
      const m = ((min % 60) + 60) % 60;
      return m < 40 ? 600 - 15 * m : 0;
    };
    const fault = { name: "f", from: T0 + 610 * MIN, until: T0 + 620 * MIN }; // 10:10–10:20
    const samples: LagSample[] = [];
    for (let min = 0; min < 24 * 60; min += 2) {
      // The fault stops the fetch for 10 minutes; the 150 left over take until 11:30 to work off.
      const extra =
        min >= 610 && min < 620 ? 15 * (min - 610) : min >= 620 && min < 690 ? 150 - (150 * (min - 620)) / 70 : 0;
      samples.push({ at: T0 + min * MIN, lag: { "hls-fetcher": usual(min) + extra, writer: 0 } });
    }
    const drains = drainTimes(samples, [fault], ["hls-fetcher", "writer"], T0 + 24 * 60 * MIN);
    // The extra falls under 20 + 5% of the usual lag at 11:12 (52 minutes after the fault); the writer had none.
    expect(drains).toEqual([{ fault: "f", group: "hls-fetcher", simMinutes: 52 }]);
    // With no extra at all there is no drain to report, though the lag before the fault (450) is passed every hour.
    const calm = samples.map((s) => ({ at: s.at, lag: { "hls-fetcher": usual((s.at - T0) / MIN) } }));
    expect(drainTimes(calm, [fault], ["hls-fetcher"], T0 + 24 * 60 * MIN)).toEqual([]);
  });

  it("takes percentiles by rank", () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
    expect(percentile([], 99)).toBe(0);
  });

  it("spreads every fault over each simulated day, after a warm-up and before the last hours", () => {
    const day = faultSchedule(24, true, ["a", "b"]);
    expect(day.map((f) => f.kind)).toEqual(["sim", "sim", "sim", "kafka-restart", "postgres-restart", "kill9", "sim"]);
    expect(day[0]!.at).toBe(60 * MIN);
    expect(Math.max(...day.map((f) => f.at))).toBeLessThanOrEqual(22.5 * 60 * MIN);
    expect(faultSchedule(48, false, ["a", "b"])).toHaveLength(10);
    const short = faultSchedule(3, false, ["a", "b"]);
    expect(short.every((f) => f.at > 0 && f.at < 3 * 60 * MIN)).toBe(true);
  });
});
