import { delayStateKey, type DelayState, type DelayVod, type StreamSnapshot, type SweepMarker, type VodFetchRequest } from "@vod/kafka";
import { MinHeap } from "./heap.ts";
import { releaseTime, type MuteTiming } from "./release-time.ts";

export interface TrackerOptions extends MuteTiming {
  /** Absent from complete sweeps this long after the last sighting: ended. */
  endAfterMs: number;
  /** Sweeps remembered per VOD; a marker further behind its snapshots than this is not waited for. */
  recentSweeps: number;
  /** Released VODs are remembered this long (late or redelivered sightings must not revive them). */
  releasedRetentionMs: number;
}

export interface TrackerCounters {
  /** Snapshots of a VOD older than the streamer's newest: ignored. */
  staleSnapshots: number;
  /** Redelivered or replayed sightings of an already released VOD: ignored. */
  afterRelease: number;
  /** Ended VODs seen again before release. */
  revived: number;
  /** Released VODs seen live again (they had not ended): tracked again, released again at their real end. */
  revivedAfterRelease: number;
  endedAbsent: number;
  endedRestart: number;
  sweepsEvaluated: number;
  /** Complete sweeps given up on: not all their snapshots arrived (invalid ones went to the DLQ). */
  sweepsAbandoned: number;
}

interface PendingSweep {
  marker: SweepMarker;
  receivedAt: string;
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/**
 * The delay stage's state machine, free of I/O: live VODs, their ends, and the releases they are
 * due. Every change marks a record dirty; the caller persists dirty records to the compacted state
 * topic before committing its input, so a restart rebuilds exactly this from that topic.
 */
export class Tracker {
  readonly vods = new Map<string, DelayVod>();
  readonly #newest = new Map<string, string>();
  /** How many tracked VODs each sweep saw (derived from the VODs' `sweeps`). */
  readonly #seen = new Map<string, number>();
  readonly #pending = new Map<string, PendingSweep>();
  /** Sightings of untracked VODs already counted, by sweep and streamer. */
  readonly #untracked = new Set<string>();
  readonly #due = new MinHeap<{ at: number; key: string }>((a, b) => a.at < b.at || (a.at === b.at && a.key < b.key));
  readonly #dirty = new Set<string>();
  readonly #gone = new Set<string>();
  readonly counters: TrackerCounters = { staleSnapshots: 0, afterRelease: 0, revived: 0, revivedAfterRelease: 0, endedAbsent: 0, endedRestart: 0, sweepsEvaluated: 0, sweepsAbandoned: 0 };

  constructor(readonly options: TrackerOptions) {}

  /** Restores one record read from the state topic (null value: a tombstone). */
  restore(key: string, value: DelayState | null): void {
    if (value === null) {
      const vod = this.vods.get(key);
      if (vod) this.#forget(key, vod);
      this.#pending.delete(key.replace(/^sweep:/, ""));
      return;
    }
    if (value.kind === "sweep") {
      this.#pending.set(value.marker.sweepId, { marker: value.marker, receivedAt: value.receivedAt });
      return;
    }
    const old = this.vods.get(key);
    if (old) this.#forget(key, old);
    this.vods.set(key, value);
    for (const s of value.sweeps) this.#seen.set(s, (this.#seen.get(s) ?? 0) + 1);
    this.#noteNewest(value, key);
    if (value.status === "ended" && value.releaseAt) this.#due.push({ at: ms(value.releaseAt), key });
  }

  applySnapshot(s: StreamSnapshot): void {
    const key = vodKeyOf(s.streamId, s.startTime);
    const newestKey = this.#newest.get(s.streamerId);
    const newest = newestKey === undefined ? undefined : this.vods.get(newestKey);
    if (newest && newestKey !== key && ms(newest.startTime) > ms(s.startTime)) {
      this.counters.staleSnapshots++;
      this.#countSighting(key, s);
      return;
    }
    let vod = this.vods.get(key);
    // A redelivered or replayed sighting (no newer than the last) changes nothing but the sweep's count.
    if (vod && vod.status !== "live" && ms(s.observedAt) <= ms(vod.lastSeen)) {
      if (vod.status === "released") this.counters.afterRelease++;
      this.#countSighting(key, s);
      return;
    }
    // The streamer is live with another start time: its previous VOD ended, whatever the sweeps say.
    if (newest && newestKey !== undefined && newestKey !== key && newest.status === "live") {
      this.#end(newestKey, newest, "restart", ms(s.observedAt));
    }
    if (!vod) {
      vod = {
        v: 1, kind: "vod", streamId: s.streamId, startTime: s.startTime, streamerId: s.streamerId, login: s.login,
        firstSeen: s.observedAt, lastSeen: s.observedAt, maxViewers: s.viewers, sweeps: [],
        status: "live", endedAt: null, endReason: null, releaseAt: null, releasedAt: null,
      };
      this.vods.set(key, vod);
    } else {
      if (vod.status !== "live") {
        // Live again after it was taken as ended (or even released, e.g. after 15 minutes under the
        // viewer threshold): it had not ended. Released again once it really ends, so the archived
        // playlist is the whole one, fetched after its mute run.
        if (vod.status === "released") this.counters.revivedAfterRelease++;
        else this.counters.revived++;
        vod.status = "live";
        vod.endedAt = null;
        vod.endReason = null;
        vod.releaseAt = null;
        vod.releasedAt = null;
      }
      if (ms(s.observedAt) > ms(vod.lastSeen)) vod.lastSeen = s.observedAt;
      if (ms(s.observedAt) < ms(vod.firstSeen)) vod.firstSeen = s.observedAt;
      vod.maxViewers = Math.max(vod.maxViewers, s.viewers);
      vod.login = s.login;
    }
    if (!vod.sweeps.includes(s.sweepId)) {
      vod.sweeps.push(s.sweepId);
      this.#seen.set(s.sweepId, (this.#seen.get(s.sweepId) ?? 0) + 1);
      if (vod.sweeps.length > this.options.recentSweeps) vod.sweeps.splice(0, vod.sweeps.length - this.options.recentSweeps);
    }
    this.#noteNewest(vod, key);
    this.#dirty.add(key);
  }

  /** Only complete sweeps are kept: an incomplete one is never evidence that a stream ended. */
  addMarker(marker: SweepMarker, now: number): void {
    if (!marker.complete) return;
    this.#pending.set(marker.sweepId, { marker, receivedAt: iso(now) });
    this.#dirty.add(`sweep:${marker.sweepId}`);
  }

  /**
   * Evaluates complete sweeps, oldest first, once all their snapshots were handled. When the
   * inputs are caught up, a sweep still short of snapshots never will be complete here: abandoned.
   */
  evaluate(caughtUp: boolean): void {
    const pending = [...this.#pending.values()].sort((a, b) => ms(a.marker.startedAt) - ms(b.marker.startedAt) || (a.marker.sweepId < b.marker.sweepId ? -1 : 1));
    for (const p of pending) {
      const id = p.marker.sweepId;
      const ready = (this.#seen.get(id) ?? 0) >= p.marker.count;
      if (ready) {
        this.#evaluateSweep(p.marker);
        this.counters.sweepsEvaluated++;
      } else if (caughtUp) {
        this.counters.sweepsAbandoned++;
      } else {
        break;
      }
      this.#pending.delete(id);
      this.#seen.delete(id);
      for (const once of this.#untracked) if (once.startsWith(`${id}|`)) this.#untracked.delete(once);
      this.#gone.add(`sweep:${id}`);
      this.#dirty.delete(`sweep:${id}`);
    }
  }

  get pendingSweeps(): number {
    return this.#pending.size;
  }

  /** The earliest release time among ended VODs (stale heap entries are dropped on the way). */
  nextReleaseAt(): number | undefined {
    for (;;) {
      const head = this.#due.peek();
      if (!head) return undefined;
      const vod = this.vods.get(head.key);
      if (vod && vod.status === "ended" && vod.releaseAt && ms(vod.releaseAt) === head.at) return head.at;
      this.#due.pop();
    }
  }

  /** Fetch requests due at `now`, in release-time order; they stay due until `markReleased`. */
  due(now: number, limit = 500): { key: string; request: VodFetchRequest }[] {
    const out: { key: string; request: VodFetchRequest }[] = [];
    const taken: { at: number; key: string }[] = [];
    while (out.length < limit) {
      const at = this.nextReleaseAt();
      if (at === undefined || at > now) break;
      const head = this.#due.pop()!;
      taken.push(head);
      if (out.some((o) => o.key === head.key)) continue;
      out.push({ key: head.key, request: requestOf(this.vods.get(head.key)!) });
    }
    for (const t of taken) this.#due.push(t);
    return out;
  }

  markReleased(key: string, now: number): void {
    const vod = this.vods.get(key);
    if (!vod || vod.status !== "ended") return;
    vod.status = "released";
    vod.releasedAt = iso(now);
    this.#dirty.add(key);
  }

  /** Forgets released VODs after the retention (their records are tombstoned). */
  prune(now: number): void {
    for (const [key, vod] of this.vods) {
      if (vod.status === "released" && vod.releasedAt && ms(vod.releasedAt) + this.options.releasedRetentionMs <= now) {
        this.#forget(key, vod);
        this.#gone.add(key);
        this.#dirty.delete(key);
      }
    }
  }

  /** Records to write to the state topic, and keys to tombstone. Call `flushed` once they are acknowledged. */
  changes(): { records: DelayState[]; tombstones: string[] } {
    const records: DelayState[] = [];
    for (const key of this.#dirty) {
      if (key.startsWith("sweep:")) {
        const p = this.#pending.get(key.slice(6));
        if (p) records.push({ v: 1, kind: "sweep", marker: p.marker, receivedAt: p.receivedAt });
      } else {
        const vod = this.vods.get(key);
        if (vod) records.push({ ...vod, sweeps: [...vod.sweeps] });
      }
    }
    return { records, tombstones: [...this.#gone] };
  }

  flushed(written: { records: DelayState[]; tombstones: string[] }): void {
    for (const r of written.records) {
      const key = delayStateKey(r);
      const current = key.startsWith("sweep:") ? undefined : this.vods.get(key);
      // Only clean if unchanged since it was taken (the release loop and handlers interleave).
      if (!current || JSON.stringify(current) === JSON.stringify(r)) this.#dirty.delete(key);
    }
    for (const t of written.tombstones) this.#gone.delete(t);
  }

  #end(key: string, vod: DelayVod, reason: "absent" | "restart", evidenceAt: number): void {
    const at = Math.max(releaseTime(ms(vod.lastSeen), this.options), evidenceAt);
    vod.status = "ended";
    vod.endReason = reason;
    vod.endedAt = iso(evidenceAt);
    vod.releaseAt = iso(at);
    this.#due.push({ at, key });
    this.#dirty.add(key);
    if (reason === "absent") this.counters.endedAbsent++;
    else this.counters.endedRestart++;
  }

  #evaluateSweep(marker: SweepMarker): void {
    const threshold = ms(marker.startedAt) - this.options.endAfterMs;
    const evidence = ms(marker.finishedAt);
    for (const [key, vod] of this.vods) {
      if (vod.status !== "live" || vod.sweeps.includes(marker.sweepId)) continue;
      if (ms(vod.lastSeen) <= threshold) this.#end(key, vod, "absent", evidence);
    }
  }

  /**
   * Counts a sighting that changes no VOD toward its sweep's snapshot count, so the sweep can still
   * be evaluated. Kept on the VOD's record when tracked (durable); otherwise in memory only, where a
   * restart loses it and the sweep is abandoned: the safe side.
   */
  #countSighting(key: string, s: StreamSnapshot): void {
    const vod = this.vods.get(key);
    if (vod) {
      if (vod.sweeps.includes(s.sweepId)) return;
      vod.sweeps.push(s.sweepId);
      if (vod.sweeps.length > this.options.recentSweeps) vod.sweeps.splice(0, vod.sweeps.length - this.options.recentSweeps);
      this.#dirty.add(key);
    } else {
      const once = `${s.sweepId}|${s.streamerId}`;
      if (this.#untracked.has(once)) return;
      this.#untracked.add(once);
    }
    this.#seen.set(s.sweepId, (this.#seen.get(s.sweepId) ?? 0) + 1);
  }

  #noteNewest(vod: DelayVod, key: string): void {
    const current = this.#newest.get(vod.streamerId);
    const cur = current === undefined ? undefined : this.vods.get(current);
    if (!cur || ms(vod.startTime) >= ms(cur.startTime)) this.#newest.set(vod.streamerId, key);
  }

  #forget(key: string, vod: DelayVod): void {
    this.vods.delete(key);
    for (const s of vod.sweeps) {
      const n = (this.#seen.get(s) ?? 1) - 1;
      if (n <= 0) this.#seen.delete(s);
      else this.#seen.set(s, n);
    }
    if (this.#newest.get(vod.streamerId) === key) this.#newest.delete(vod.streamerId);
  }
}

export function vodKeyOf(streamId: string, startTime: string): string {
  return `vod:${streamId}:${startTime}`;
}

export function requestOf(vod: DelayVod): VodFetchRequest {
  return {
    v: 1,
    streamId: vod.streamId,
    startTime: vod.startTime,
    streamerId: vod.streamerId,
    login: vod.login,
    firstSeen: vod.firstSeen,
    lastSeen: vod.lastSeen,
    maxViewers: vod.maxViewers,
    releaseAt: vod.releaseAt!,
  };
}
