import { describe, expect, it } from "vitest";
import { delayStateKey, type DelayState, type StreamSnapshot, type SweepMarker, type VodFetchResult } from "@vod/kafka";
import { requestOf, Tracker, vodKeyOf } from "./tracker.ts";

const MIN = 60_000;
const T0 = Date.parse("2025-01-06T12:00:00.000Z");
const iso = (t: number) => new Date(t).toISOString();
const options = {
  endAfterMs: 15 * MIN,
  muteIntervalMs: 60 * MIN,
  muteMinGapMs: 5 * MIN,
  muteMarginMs: 10 * MIN,
  recentSweeps: 8,
  releasedRetentionMs: 24 * 60 * MIN,
  minViewers: 10,
};

const snap = (sweep: number, streamer: string, start = T0 - 60 * MIN, viewers = 100): StreamSnapshot => ({
  v: 1,
  sweepId: `s${sweep}`,
  observedAt: iso(T0 + sweep * 5 * MIN + 1000),
  streamId: `9${streamer}`,
  startTime: iso(start),
  streamerId: streamer,
  login: `l${streamer}`,
  viewers,
  title: null,
  gameId: null,
  gameName: null,
  language: null,
  mature: null,
});
const marker = (sweep: number, count: number, complete = true): SweepMarker => ({
  v: 2,
  sweepId: `s${sweep}`,
  startedAt: iso(T0 + sweep * 5 * MIN),
  finishedAt: iso(T0 + sweep * 5 * MIN + 2000),
  complete,
  reason: complete ? null : "gql",
  count,
  partition: 0,
  partitions: 1,
  total: count,
});

/** Runs sweeps: `live[i]` lists the streamers seen in sweep i. */
function run(t: Tracker, live: string[][], opts: { complete?: (i: number) => boolean; markerFirst?: boolean } = {}) {
  live.forEach((streamers, i) => {
    const m = marker(i, streamers.length, opts.complete?.(i) ?? true);
    if (opts.markerFirst) t.addMarker(m, T0);
    for (const s of streamers) t.applySnapshot(snap(i, s));
    if (!opts.markerFirst) t.addMarker(m, T0);
    t.evaluate(false);
  });
}

describe("tracker", () => {
  it("ends a VOD absent from complete sweeps for END_AFTER and schedules it at the first mute boundary + margin", () => {
    const t = new Tracker(options);
    run(t, [["1", "2"], ["1", "2"], ["2"], ["2"], ["2"], ["2"]]);
    const vod = t.vods.get(vodKeyOf("91", iso(T0 - 60 * MIN)))!;
    // Last seen in sweep 1 (12:05:01); sweep 5 starts 12:25, the first at least 15 min later.
    expect(vod).toMatchObject({
      status: "ended",
      endReason: "absent",
      lastSeen: iso(T0 + 5 * MIN + 1000),
      releaseAt: "2025-01-06T13:10:00.000Z",
    });
    expect(t.vods.get(vodKeyOf("92", iso(T0 - 60 * MIN)))!.status).toBe("live");
    expect(t.due(Date.parse("2025-01-06T13:09:59.999Z"))).toEqual([]);
    expect(t.due(Date.parse("2025-01-06T13:10:00.000Z")).map((d) => d.request.streamerId)).toEqual(["1"]);
  });

  it("never counts incomplete sweeps as absence", () => {
    const t = new Tracker(options);
    run(t, [["1"], [], [], [], [], []], { complete: (i) => i === 0 });
    expect([...t.vods.values()][0]!.status).toBe("live");
  });

  it("after sweeps failed for half an hour, awaits the mute run after the first complete sweep that missed the VOD", () => {
    const t = new Tracker(options);
    // Seen until sweep 10 (12:50:01); sweeps 11-17 fail (GQL down 12:55-13:25); sweep 18 (13:30) misses it.
    const live = Array.from({ length: 19 }, (_, i) => (i <= 10 ? ["1", "2"] : ["2"]));
    run(t, live, { complete: (i) => i <= 10 || i >= 18 });
    // It may have streamed until 13:30: the 13:00 mute run can have come before its end, the 14:00 one cannot.
    expect(t.vods.get(vodKeyOf("91", iso(T0 - 60 * MIN)))).toMatchObject({
      status: "ended",
      lastSeen: iso(T0 + 50 * MIN + 1000),
      releaseAt: "2025-01-06T14:10:00.000Z",
    });
  });

  it("a VOD first missed by a sweep just after a mute boundary awaits the next one", () => {
    const t = new Tracker(options);
    // Seen in sweep 10 (12:50:01); sweeps 11 and 12 (12:55, 13:00) fail, sweep 13 (13:05) is the first
    // to miss it: it may have ended at 13:04, after the 13:00 run, so the 14:00 run is its first.
    const live = Array.from({ length: 17 }, (_, i) => (i <= 10 ? ["1", "2"] : ["2"]));
    run(t, live, { complete: (i) => i !== 11 && i !== 12 });
    expect(t.vods.get(vodKeyOf("91", iso(T0 - 60 * MIN)))).toMatchObject({
      status: "ended",
      releaseAt: "2025-01-06T14:10:00.000Z",
    });
  });

  it("a VOD missed by a sweep that began before a mute boundary and ended after it awaits the next run", () => {
    const t = new Tracker(options);
    const at = (hhmmss: string) => `2025-01-06T${hhmmss}.000Z`;
    run(
      t,
      Array.from({ length: 11 }, () => ["1", "2"]),
    );
    // Last seen at 12:53:01. The next sweep runs 12:58-13:01 and misses it: the stream may have ended at
    // 13:00:30, before that sweep read its page, so the 13:00 run may have come before its end.
    t.applySnapshot({ ...snap(11, "1"), observedAt: at("12:53:01") });
    t.applySnapshot({ ...snap(11, "2"), observedAt: at("12:53:01") });
    t.addMarker({ ...marker(11, 2), startedAt: at("12:53:00"), finishedAt: at("12:53:30") }, T0);
    t.evaluate(false);
    t.applySnapshot(snap(12, "2"));
    t.addMarker({ ...marker(12, 1), startedAt: at("12:58:00"), finishedAt: at("13:01:00") }, T0);
    t.evaluate(false);
    for (let i = 13; i <= 18; i++) {
      t.applySnapshot(snap(i, "2"));
      t.addMarker(marker(i, 1), T0);
      t.evaluate(false);
    }
    expect(t.vods.get(vodKeyOf("91", iso(T0 - 60 * MIN)))).toMatchObject({
      status: "ended",
      lastSeen: at("12:53:01"),
      releaseAt: at("14:10:00"),
    });
  });

  it("waits for a marker's snapshots when the marker comes first", () => {
    const t = new Tracker(options);
    run(t, [["1", "2"], ["2"], ["2"], ["2"]]);
    // Sweep 4's marker arrives before its snapshots: 1 is in it, so it must not end.
    t.addMarker(marker(4, 2), T0);
    t.evaluate(false);
    expect(t.pendingSweeps).toBe(1);
    t.applySnapshot(snap(4, "2"));
    t.applySnapshot(snap(4, "1"));
    t.evaluate(false);
    expect(t.pendingSweeps).toBe(0);
    expect([...t.vods.values()].every((v) => v.status === "live")).toBe(true);
  });

  it("abandons a sweep that will never be whole once the inputs are caught up", () => {
    const t = new Tracker(options);
    run(t, [["1"], [], [], [], []], { markerFirst: true });
    t.addMarker(marker(5, 3), T0);
    t.evaluate(true);
    expect(t.counters.sweepsAbandoned).toBe(1);
    expect(t.pendingSweeps).toBe(0);
  });

  it("ends the old VOD at once when the streamer shows up with another start time; both VODs exist", () => {
    const t = new Tracker(options);
    t.applySnapshot(snap(0, "1", T0 - 60 * MIN));
    t.applySnapshot(snap(1, "1", T0 + 4 * MIN));
    const [old, fresh] = [...t.vods.values()];
    expect(old).toMatchObject({ status: "ended", endReason: "restart", streamId: "91" });
    expect(fresh).toMatchObject({ status: "live", streamId: "91", startTime: iso(T0 + 4 * MIN) });
    // A late snapshot of the old VOD does not revive it.
    t.applySnapshot(snap(2, "1", T0 - 60 * MIN));
    expect(old!.status).toBe("ended");
    expect(t.counters.staleSnapshots).toBe(1);
  });

  it("brings an ended VOD back to live when it is seen again before release", () => {
    const t = new Tracker(options);
    run(t, [["1"], [], [], [], []]);
    expect([...t.vods.values()][0]!.status).toBe("ended");
    t.applySnapshot(snap(5, "1"));
    expect([...t.vods.values()][0]!.status).toBe("live");
    expect(t.nextReleaseAt()).toBeUndefined();
    expect(t.due(T0 + 10 * 60 * MIN)).toEqual([]);
  });

  it("releases in release-time order, each once, and ignores redelivered sightings after release", () => {
    const t = new Tracker(options);
    t.applySnapshot(snap(0, "1", T0 - 60 * MIN));
    t.applySnapshot(snap(0, "2", T0 - 60 * MIN));
    t.applySnapshot(snap(11, "2", T0 - 60 * MIN)); // last seen 12:55:01: due 14:10
    t.applySnapshot(snap(12, "2", T0 + 59 * MIN)); // 2 restarts: its old VOD ends first, though due later
    t.addMarker(marker(4, 0), T0);
    t.evaluate(false); // 1 absent since 12:00: ends now, due 13:10
    const due = t.due(T0 + 3 * 60 * MIN);
    expect(due.map((d) => d.request.releaseAt)).toEqual(["2025-01-06T13:10:00.000Z", "2025-01-06T14:10:00.000Z"]);
    for (const d of due) t.markReleased(d.key, T0 + 3 * 60 * MIN);
    expect(t.due(T0 + 4 * 60 * MIN)).toEqual([]);
    t.applySnapshot(snap(0, "1", T0 - 60 * MIN)); // redelivered: no newer than its last sighting
    expect(t.counters.afterRelease).toBe(1);
    expect(t.due(T0 + 10 * 60 * MIN)).toEqual([]);
  });

  it("tracks a released VOD seen live again, releases it again at its real end, and still counts the sweeps", () => {
    const t = new Tracker(options);
    // Sweeps 0–1: both live. 1 drops out (under the threshold) from sweep 2 on and is released.
    run(t, [["1", "2"], ["1", "2"], ["2"], ["2"], ["2"], ["2"], ["2"]]);
    const key1 = vodKeyOf("91", iso(T0 - 60 * MIN));
    const [first] = t.due(T0 + 3 * 60 * MIN);
    expect(first?.key).toBe(key1);
    t.markReleased(key1, T0 + 3 * 60 * MIN);
    // Its "released" record written: kept compactly from here on.
    t.flushed(t.changes());
    expect(t.vods.has(key1)).toBe(false);
    // Sweeps 40–44: 1 is back, 2 is gone. 2 must still end by absence.
    const sweeps = [40, 41, 42, 43, 44];
    for (const i of sweeps) {
      t.applySnapshot(snap(i, "1"));
      t.addMarker(marker(i, 1), T0);
      t.evaluate(true);
    }
    expect(t.counters.revivedAfterRelease).toBe(1);
    expect(t.counters.sweepsAbandoned).toBe(0);
    expect(t.vods.get(key1)?.status).toBe("live");
    expect(t.vods.get(vodKeyOf("92", iso(T0 - 60 * MIN)))?.status).toBe("ended");
    // 1 ends for real: released a second time, after its last sighting's mute run.
    for (const i of [45, 46, 47, 48]) {
      t.addMarker(marker(i, 0), T0);
      t.evaluate(true);
    }
    const again = t.due(T0 + 10 * 60 * MIN).find((d) => d.key === key1);
    expect(again?.request.lastSeen).toBe(iso(T0 + 44 * 5 * MIN + 1000));
    expect(again?.request.releaseAt).toBe("2025-01-06T16:10:00.000Z");
  });

  it("counts stale and redelivered sightings toward their sweep, so it is evaluated, not abandoned", () => {
    const t = new Tracker(options);
    run(t, [["1", "2"]]);
    t.applySnapshot(snap(1, "1", T0 + 2 * MIN)); // 1 restarted: its first VOD ended at once
    t.applySnapshot(snap(2, "1", T0 - 60 * MIN)); // a stale sighting of the old VOD in sweep 2
    t.applySnapshot(snap(2, "2"));
    t.addMarker(marker(2, 2), T0);
    t.evaluate(true);
    expect(t.counters.staleSnapshots).toBe(1);
    expect(t.counters.sweepsAbandoned).toBe(0);
    expect(t.counters.sweepsEvaluated).toBe(2);
  });

  it("rebuilds the same state from its own records", () => {
    const a = new Tracker(options);
    run(a, [["1", "2"], ["2"], ["2"], ["2"], ["2"]]);
    a.addMarker(marker(5, 1), T0);
    const { records } = a.changes();
    const b = new Tracker(options);
    for (const r of records) b.restore(delayStateKey(r), r);
    b.restored();
    expect([...b.vods.entries()]).toEqual([...a.vods.entries()]);
    expect(b.pendingSweeps).toBe(1);
    expect(b.nextReleaseAt()).toBe(a.nextReleaseAt());
    b.applySnapshot(snap(5, "2"));
    b.evaluate(false);
    expect(b.pendingSweeps).toBe(0);
  });

  it("keeps a VOD dipping to 7 viewers for 20 minutes live, and releases it once, after its real end", () => {
    const t = new Tracker(options);
    const viewers = [50, 50, 7, 7, 7, 7, 7, 50, 50, 7]; // sweeps 0–9: 7 viewers from 12:10 to 12:30, and at its last sighting
    viewers.forEach((n, i) => {
      t.applySnapshot(snap(i, "1", T0 - 60 * MIN, n));
      t.addMarker(marker(i, 1), T0);
      t.evaluate(false);
    });
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    expect(t.vods.get(key)!.status).toBe("live");
    for (const i of [10, 11, 12, 13]) {
      t.addMarker(marker(i, 0), T0);
      t.evaluate(false);
    }
    // Last seen 12:45:01 (at 7 viewers): first boundary at least 5 min later is 13:00, plus 10 min.
    expect(t.vods.get(key)).toMatchObject({
      status: "ended",
      lastSeen: iso(T0 + 45 * MIN + 1000),
      maxViewers: 50,
      releaseAt: "2025-01-06T13:10:00.000Z",
    });
    expect(t.due(Date.parse("2025-01-06T13:10:00.000Z")).map((d) => d.key)).toEqual([key]);
  });

  it("never releases a VOD that stayed under MIN_VIEWERS: forgotten (tombstoned) at its release time", () => {
    const t = new Tracker(options);
    [7, 9, 8].forEach((n, i) => {
      t.applySnapshot(snap(i, "1", T0 - 60 * MIN, n));
      t.addMarker(marker(i, 1), T0);
      t.evaluate(false);
    });
    for (const i of [3, 4, 5, 6]) {
      t.addMarker(marker(i, 0), T0);
      t.evaluate(false);
    }
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    expect(t.vods.get(key)?.status).toBe("ended");
    expect(t.due(T0 + 10 * 60 * MIN)).toEqual([]);
    expect(t.vods.has(key)).toBe(false);
    expect(t.counters.forgottenUnderMin).toBe(1);
    expect(t.changes().tombstones).toContain(key);
  });

  it("ends a restarted stream's old VOD at max(lastSeen, new start): the release waits for the mute run after the new start", () => {
    const t = new Tracker(options);
    t.applySnapshot(snap(0, "1", T0 - 60 * MIN));
    t.applySnapshot(snap(10, "1", T0 - 60 * MIN)); // last seen 12:50:01
    t.applySnapshot(snap(12, "1", T0 + 58 * MIN)); // new stream started 12:58, seen 13:00:01
    const old = t.vods.get(vodKeyOf("91", iso(T0 - 60 * MIN)))!;
    // From lastSeen alone: 13:10. From the new start (12:58 + 5 min gap): 14:00 + 10 min.
    expect(old).toMatchObject({
      status: "ended",
      endReason: "restart",
      lastSeen: iso(T0 + 50 * MIN + 1000),
      releaseAt: "2025-01-06T14:10:00.000Z",
    });
  });

  it("sets restart on the fetch request of a VOD whose stream id repeats the streamer's previous VOD's, and only then", () => {
    const t = new Tracker(options);
    const other = (sweep: number, start: number): StreamSnapshot => ({ ...snap(sweep, "1", start), streamId: "777" });
    t.applySnapshot(snap(0, "1", T0 - 60 * MIN));
    t.applySnapshot(snap(1, "1", T0 + 4 * MIN)); // same stream id 91
    t.applySnapshot(other(2, T0 + 9 * MIN)); // new stream id
    t.applySnapshot(snap(30, "2", T0 + 100 * MIN)); // another streamer's first VOD
    t.addMarker(marker(40, 0), T0);
    t.evaluate(false);
    const requests = t.due(T0 + 24 * 60 * MIN).map((d) => d.request);
    const flag = (streamer: string, start: number) =>
      requests.find((r) => r.streamerId === streamer && r.startTime === iso(start))?.restart;
    expect(flag("1", T0 - 60 * MIN)).toBe(false);
    expect(flag("1", T0 + 4 * MIN)).toBe(true);
    expect(flag("1", T0 + 9 * MIN)).toBe(false);
    expect(flag("2", T0 + 100 * MIN)).toBe(false);
  });

  it("tracks a released VOD again on a live fetch result, ends it by absence from then, releases it after that end's mute run", () => {
    const t = new Tracker(options);
    run(t, [["1", "2"], ["2"], ["2"], ["2"], ["2"]]);
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    expect(t.due(Date.parse("2025-01-06T13:10:00.000Z")).map((d) => d.key)).toEqual([key]);
    t.markReleased(key, Date.parse("2025-01-06T13:10:00.000Z"));
    const fetchedAt = "2025-01-06T13:10:05.000Z";
    const result: VodFetchResult = {
      ...t.vods.get(key)!,
      outcome: "live",
      fetchedAt,
      requests: 1,
      found: null,
      error: null,
    };
    t.applyResult(result);
    expect(t.vods.get(key)).toMatchObject({ status: "live", lastSeen: fetchedAt, releaseAt: null, releasedAt: null });
    t.applyResult(result); // redelivered: nothing changes
    expect(t.counters).toMatchObject({ liveResults: 1, liveResultsIgnored: 1 });
    // Sweeps at 13:20 and 13:25: only the one starting 15 min after 13:10:05 is evidence.
    for (const i of [16, 17]) {
      t.applySnapshot(snap(i, "2"));
      t.addMarker(marker(i, 1), T0);
      t.evaluate(false);
    }
    expect(t.vods.get(key)!.status).toBe("live");
    t.applySnapshot(snap(18, "2"));
    t.addMarker(marker(18, 1), T0);
    t.evaluate(false);
    expect(t.vods.get(key)).toMatchObject({ status: "ended", releaseAt: "2025-01-06T14:10:00.000Z" });
    const [again] = t.due(Date.parse("2025-01-06T14:10:00.000Z"));
    expect(again?.key).toBe(key);
    // Its next release says how many fetches found it live, so the fetcher can give it up at its limit.
    expect(again?.request.liveResults).toBe(1);
    // Kept through the compact form of a released VOD and a restore of its record.
    t.markReleased(key, Date.parse("2025-01-06T14:10:00.000Z"));
    const written = t.changes();
    expect(written.records.find((r) => r.kind === "vod" && r.streamId === "91")).toMatchObject({ liveResults: 1 });
    t.flushed(written);
    t.applyResult({ ...result, fetchedAt: "2025-01-06T14:10:05.000Z" });
    expect(t.vods.get(key)).toMatchObject({ status: "live", liveResults: 2 });
  });

  it("reconciles a release found at restore whatever its record says, unless seen after it", () => {
    const t = new Tracker(options);
    run(t, [["1", "2"], ["2"]]);
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    const vod = t.vods.get(key)!;
    expect(vod.status).toBe("live");
    const request = requestOf({ ...vod, releaseAt: "2025-01-06T13:10:00.000Z" });
    // A record that trails its release (written late by a member that had lost the partition).
    expect(t.reconcileRelease(request, Date.parse("2025-01-06T13:20:00.000Z"))).toBe(true);
    expect(t.vods.get(key)).toMatchObject({ status: "released", releaseAt: "2025-01-06T13:10:00.000Z" });
    expect(t.reconcileRelease(request, Date.parse("2025-01-06T13:20:00.000Z"))).toBe(false);
    // Seen after that release: tracked again for real, not reconciled.
    const other = new Tracker(options);
    run(other, [["1", "2"], ["2"]]);
    const older = requestOf({ ...other.vods.get(key)!, lastSeen: iso(T0 - 30 * MIN), releaseAt: "x" });
    expect(other.reconcileRelease({ ...older, releaseAt: "2025-01-06T12:10:00.000Z" }, T0)).toBe(false);
    expect(other.vods.get(key)!.status).toBe("live");
  });

  it("writes a VOD's record when its fate changes, not for every sighting", () => {
    const t = new Tracker(options);
    const streamers = Array.from({ length: 100 }, (_, i) => String(i + 1));
    run(t, [streamers]);
    const first = t.changes();
    expect(first.records.filter((r) => r.kind === "vod")).toHaveLength(100);
    t.flushed(first);
    for (let i = 1; i <= 4; i++) {
      for (const s of streamers) t.applySnapshot(snap(i, s, T0 - 60 * MIN, 100 + i));
      t.addMarker(marker(i, streamers.length), T0);
      t.evaluate(false);
    }
    expect(t.counters.sweepsEvaluated).toBe(5);
    const later = t.changes();
    expect(later.records.filter((r) => r.kind === "vod")).toHaveLength(0);
    expect(later.records.filter((r) => r.kind === "progress")).toHaveLength(1);
    t.flushed(later);
    // Crossing MIN_VIEWERS decides the release: written.
    t.applySnapshot(snap(5, "1", T0 - 60 * MIN, 5));
    t.applySnapshot({ ...snap(5, "200", T0 - 60 * MIN, 5) });
    t.flushed(t.changes());
    t.applySnapshot(snap(6, "200", T0 - 60 * MIN, 12));
    expect(
      t
        .changes()
        .records.filter((r) => r.kind === "vod")
        .map((r) => r.kind === "vod" && r.streamerId),
    ).toEqual(["200"]);
  });

  it("after a restart, a live VOD whose record is older than its last sighting is not ended or released before the progress allows", () => {
    const a = new Tracker(options);
    const written: DelayState[] = [];
    const flush = () => {
      const c = a.changes();
      written.push(...c.records);
      a.flushed(c);
    };
    // Sweeps 0–6 see 1 (record written at sweep 0, last seen 12:30:01 in memory); 1 is gone from sweep 7 on.
    for (let i = 0; i <= 6; i++) {
      a.applySnapshot(snap(i, "1"));
      a.applySnapshot(snap(i, "2"));
      a.addMarker(marker(i, 2), T0);
      a.evaluate(false);
      flush();
    }
    const b = new Tracker(options);
    for (const r of written) b.restore(delayStateKey(r), r);
    b.restored();
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    expect(b.vods.get(key)!.lastSeen).toBe(iso(T0 + 1000)); // the record is from its first sighting
    // Sweeps 7–9 (12:35–12:45) without 1: its record says 12:00:01, but it may have been seen up to 12:30:01.
    for (const i of [7, 8, 9]) {
      b.applySnapshot(snap(i, "2"));
      b.addMarker(marker(i, 1), T0);
      b.evaluate(false);
    }
    expect(b.vods.get(key)!.status).toBe("live");
    b.applySnapshot(snap(10, "2"));
    b.addMarker(marker(10, 1), T0);
    b.evaluate(false);
    // Ended at 12:50 (15 min after 12:35); released after the mute run following 12:30:01, never before.
    expect(b.vods.get(key)).toMatchObject({ status: "ended", releaseAt: "2025-01-06T13:10:00.000Z" });
  });

  it("abandons a sweep whose snapshots were partly handled before a restart (never evidence of an end)", () => {
    const a = new Tracker(options);
    run(a, [["1", "2"]]);
    a.addMarker(marker(1, 2), T0);
    a.applySnapshot(snap(1, "2")); // 1's snapshot of sweep 1 was handled before the crash, 2's is redelivered after
    const c = a.changes();
    const b = new Tracker(options);
    for (const r of c.records) b.restore(delayStateKey(r), r);
    b.restored();
    b.applySnapshot(snap(1, "2"));
    b.evaluate(false);
    expect(b.pendingSweeps).toBe(1);
    b.evaluate(true);
    expect(b.counters).toMatchObject({ sweepsAbandoned: 1, sweepsEvaluated: 0 });
  });

  it("writes a VOD's exact last sighting when a complete sweep first misses it, so after a restart it ends on time", () => {
    const a = new Tracker(options);
    const written: DelayState[] = [];
    const sweepOf = (t: Tracker, i: number, streamers: string[]) => {
      for (const s of streamers) t.applySnapshot(snap(i, s));
      t.addMarker(marker(i, streamers.length), T0);
      t.evaluate(false);
      const c = t.changes();
      written.push(...c.records);
      t.flushed(c);
    };
    for (let i = 0; i <= 6; i++) sweepOf(a, i, ["1", "2"]);
    sweepOf(a, 7, ["2"]); // 1 missed: its record now says 12:30:01
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    expect(written.filter((r) => r.kind === "vod" && r.streamerId === "1").at(-1)).toMatchObject({
      lastSeen: iso(T0 + 30 * MIN + 1000),
      seenExact: true,
    });
    const b = new Tracker(options);
    for (const r of written) b.restore(delayStateKey(r), r);
    b.restored();
    sweepOf(b, 8, ["2"]);
    sweepOf(b, 9, ["2"]);
    expect(b.vods.get(key)!.status).toBe("live");
    sweepOf(b, 10, ["2"]); // 12:50, the first sweep 15 min after 12:30:01 (not after the progress, 12:35:01)
    expect(b.vods.get(key)).toMatchObject({
      status: "ended",
      lastSeen: iso(T0 + 30 * MIN + 1000),
      releaseAt: "2025-01-06T13:10:00.000Z",
    });
    // Seen again: the record no longer holds the last sighting, and says so.
    const c = new Tracker(options);
    for (const r of written) c.restore(delayStateKey(r), r);
    c.restored();
    c.applySnapshot(snap(8, "1"));
    expect(c.changes().records.find((r) => r.kind === "vod" && r.streamerId === "1")).not.toHaveProperty("seenExact");
  });
});

describe("tracker memory over weeks", () => {
  it("keeps a released VOD compactly once its record is written: late sightings ignored, newer ones and live results track it again with its history", () => {
    const t = new Tracker(options);
    // Streamer 3 restarts under its stream id (the restart flag), then the new VOD ends.
    const start1 = T0 - 60 * MIN;
    const start2 = T0 + 2 * 5 * MIN;
    t.applySnapshot(snap(0, "3", start1));
    t.applySnapshot({ ...snap(2, "3", start2), streamId: "93", viewers: 400 });
    for (const i of [3, 4, 5, 6, 7]) {
      t.addMarker(marker(i, 0), T0);
      t.evaluate(true);
    }
    const key = vodKeyOf("93", iso(start2));
    const [due] = t.due(T0 + 10 * 60 * MIN).filter((d) => d.key === key);
    expect(due?.request).toMatchObject({ restart: true, maxViewers: 400 });
    t.markReleased(key, T0 + 2 * 60 * MIN);
    t.flushed(t.changes());
    expect(t.vods.has(key)).toBe(false);
    expect(t.releasedCount).toBe(1);
    // A redelivered sighting: ignored.
    t.applySnapshot({ ...snap(2, "3", start2), streamId: "93", viewers: 400 });
    expect(t.counters.afterRelease).toBe(1);
    expect(t.vods.has(key)).toBe(false);
    // A live result after the release: tracked again, as it was.
    const fetchedAt = iso(T0 + 2 * 60 * MIN + 5000);
    t.applyResult({ ...due!.request, outcome: "live", fetchedAt, requests: 1, found: null, error: null });
    expect(t.vods.get(key)).toMatchObject({
      status: "live",
      lastSeen: fetchedAt,
      firstSeen: due!.request.firstSeen,
      maxViewers: 400,
      restart: true,
      login: "l3",
    });
    expect(t.releasedCount).toBe(0);
  });

  it("forgets released VODs after the retention, tombstoning them", () => {
    const t = new Tracker(options);
    run(t, [["1", "2"], ["2"], ["2"], ["2"], ["2"]]);
    const key = vodKeyOf("91", iso(T0 - 60 * MIN));
    t.markReleased(key, Date.parse("2025-01-06T13:10:00.000Z"));
    t.flushed(t.changes());
    expect(t.releasedCount).toBe(1);
    t.prune(Date.parse("2025-01-07T13:09:59.000Z"));
    expect(t.releasedCount).toBe(1);
    t.prune(Date.parse("2025-01-07T13:10:00.000Z"));
    expect(t.releasedCount).toBe(0);
    expect(t.changes().tombstones).toContain(key);
    // A sighting older than the newest VOD's, after it is forgotten: a new VOD, not a crash.
    t.applySnapshot(snap(300, "1"));
    expect(t.vods.get(key)?.status).toBe("live");
  });

  it("frees each sweep's bookkeeping: complete, incomplete and never-marked sweeps alike", () => {
    const t = new Tracker(options);
    const start = T0 - 60 * MIN;
    t.applySnapshot(snap(0, "5", start + 60 * MIN)); // newer VOD of 5: the older one's sightings are stale (untracked)
    for (let i = 1; i <= 2_000; i++) {
      t.applySnapshot(snap(i, "5", start)); // stale: counted once per sweep, outside the VOD records
      t.applySnapshot(snap(i, "6"));
      if (i % 3 === 0) t.addMarker(marker(i, 2), T0);
      else if (i % 3 === 1) t.addMarker(marker(i, 2, false), T0);
      // i % 3 === 2: its marker never comes
      t.evaluate(false);
    }
    expect(t.counters.sweepsEvaluated).toBe(666);
    const b = t.sweepBookkeeping;
    expect(b.pending).toBe(0);
    expect(b.counts).toBeLessThanOrEqual(4 * options.recentSweeps + 1);
    expect(b.untracked).toBeLessThanOrEqual(4 * options.recentSweeps + 1);
  });
});
