import type { DelayState, DelayVod, StreamSnapshot, SweepMarker, VodFetchRequest, VodFetchResult } from "@vod/kafka";
import { Changelog } from "./changelog.ts";
import { startOfKey, streamIdOfKey, sweepIdOfKey, sweepKeyOf, vodKeyOf } from "./keys.ts";
import { ReleasedStore, type Released } from "./released-store.ts";
import { ReleaseQueue, type DueEntry } from "./release-queue.ts";
import { releaseTime } from "./release-time.ts";
import { Interner } from "./interner.ts";
import { newVod, relive, requestOf } from "./vod-record.ts";
import { SweepBook } from "./sweeps.ts";
import { emptyCounters, type TrackerCounters, type TrackerOptions } from "./tracker-options.ts";

export { vodKeyOf } from "./keys.ts";
export { requestOf } from "./vod-record.ts";
export type { TrackerCounters, TrackerOptions } from "./tracker-options.ts";

/** What the tracker keeps beside a VOD's record, in memory only. */
interface VodMeta {
  /** Sweeps that already counted this VOD (redelivery must not count it twice). */
  counted: string[];
  /**
   * Restored live, not seen since: it may have been seen up to this clock time before the restart
   * (its record is not rewritten per sighting), so it is not taken as ended or due before that allows.
   */
  floor?: number;
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/**
 * The delay stage's state machine, free of I/O: live VODs, their ends, and the releases they are
 * due. A change that decides a VOD's fate marks its record dirty; the caller persists dirty records
 * (and the progress record) to the compacted state topic before committing its input, so a restart
 * rebuilds the same decisions from that topic. Sightings that only move `lastSeen` or `maxViewers`
 * stay in memory: at 100k live VODs a sweep would otherwise rewrite every record.
 */
export class Tracker {
  /** Live and ended VODs (and released ones until their "released" record is written). */
  readonly vods = new Map<string, DelayVod>();
  /** Released VODs, compactly, until RELEASED_RETENTION after their release. */
  readonly #released = new ReleasedStore();
  readonly #meta = new Map<string, VodMeta>();
  readonly #newest = new Map<string, string>();
  readonly #sweeps: SweepBook;
  readonly #due = new ReleaseQueue((key) => {
    const vod = this.vods.get(key);
    return vod?.status === "ended" && vod.releaseAt ? ms(vod.releaseAt) : undefined;
  });
  /** Records to write and to tombstone. */
  readonly #log = new Changelog();
  readonly #times = new Interner(4_096);
  /** Latest observedAt handled, and the value last handed out for persisting. */
  #progress = 0;
  #progressWritten = 0;
  /** Progress read at restore; applied as a floor to restored live VODs by `restored()`. */
  #restoredProgress = 0;
  readonly counters: TrackerCounters = emptyCounters();
  readonly partition: number;

  constructor(readonly options: TrackerOptions) {
    this.partition = options.partition ?? 0;
    this.#sweeps = new SweepBook(options.recentSweeps);
  }

  /** Restores one record read from the state topic (null value: a tombstone). Call `restored()` after the last. */
  restore(key: string, value: DelayState | null): void {
    if (value === null) {
      this.#forget(key);
      const sweep = sweepIdOfKey(key);
      if (sweep !== undefined) this.#sweeps.deletePending(sweep);
      return;
    }
    if (value.kind === "progress") {
      this.#restoredProgress = Math.max(this.#restoredProgress, ms(value.observedAt));
      return;
    }
    if (value.kind === "sweep") {
      this.#sweeps.setPending({ marker: value.marker, receivedAt: value.receivedAt });
      return;
    }
    this.#forget(key);
    if (value.status === "released") this.#released.pack(key, value);
    else {
      this.vods.set(key, value);
      this.#meta.set(key, { counted: [] });
    }
    this.#noteNewest(value.streamerId, key);
    if (value.status === "ended" && value.releaseAt) this.#due.push(ms(value.releaseAt), key);
  }

  /** After the state topic was read: live VODs may have been seen up to the persisted progress. */
  restored(): void {
    const floor = this.#restoredProgress;
    this.#progress = this.#progressWritten = Math.max(this.#progress, floor);
    if (floor === 0) return;
    for (const [key, vod] of this.vods) {
      if (vod.status === "live" && !vod.seenExact && ms(vod.lastSeen) < floor) this.#meta.get(key)!.floor = floor;
    }
  }

  applySnapshot(s: StreamSnapshot): void {
    const observed = ms(s.observedAt);
    if (observed > this.#progress) this.#progress = observed;
    const key = vodKeyOf(s.streamId, s.startTime);
    const newestKey = this.#newest.get(s.streamerId);
    if (newestKey !== undefined && newestKey !== key && startOfKey(newestKey) > ms(s.startTime)) {
      this.counters.staleSnapshots++;
      this.#countSighting(key, s);
      return;
    }
    const newest = newestKey === undefined ? undefined : this.vods.get(newestKey);
    const packed = this.#released.get(key);
    if (packed && observed <= packed.lastSeen) {
      this.counters.afterRelease++;
      this.#countSighting(key, s);
      return;
    }
    // Seen after its release, and newer than its last sighting: its record again, to be tracked.
    if (packed) this.#unpack(key, packed, s.login);
    let vod = this.vods.get(key);
    // A redelivered or replayed sighting (no newer than the last) changes nothing but the sweep's count.
    if (vod && vod.status !== "live" && observed <= ms(vod.lastSeen)) {
      if (vod.status === "released") this.counters.afterRelease++;
      this.#countSighting(key, s);
      return;
    }
    // The streamer is live with another start time: its previous VOD ended, whatever the sweeps say,
    // and at the latest when the new stream started.
    if (newest && newestKey !== undefined && newestKey !== key && newest.status === "live") {
      this.#end(newestKey, newest, "restart", observed, Math.max(this.#seenAt(newestKey, newest), ms(s.startTime)));
    }
    if (!vod) {
      vod = newVod(s, this.#time(s.observedAt));
      // Same stream id as the streamer's previous VOD: the CDN path's ts may be the seconds field.
      if (newestKey !== undefined && newestKey !== key && streamIdOfKey(newestKey) === s.streamId) vod.restart = true;
      this.vods.set(key, vod);
      this.#meta.set(key, { counted: [] });
      this.#touch(key);
    } else {
      if (vod.status !== "live") {
        // Live again after it was taken as ended (or even released, e.g. after 15 minutes under the
        // tracking threshold): it had not ended. Released again once it really ends, so the archived
        // playlist is the whole one, fetched after its mute run.
        if (vod.status === "released") this.counters.revivedAfterRelease++;
        else this.counters.revived++;
        relive(vod);
        this.#touch(key);
      }
      if (observed > ms(vod.lastSeen)) {
        vod.lastSeen = this.#time(s.observedAt);
        // Its record no longer holds the last sighting.
        if (vod.seenExact) {
          delete vod.seenExact;
          delete vod.missedAt;
          this.#touch(key);
        }
      }
      if (observed < ms(vod.firstSeen)) vod.firstSeen = this.#time(s.observedAt);
      // Reaching the archive threshold decides whether it is released: persisted.
      if (vod.maxViewers < this.options.minViewers && s.viewers >= this.options.minViewers) this.#touch(key);
      vod.maxViewers = Math.max(vod.maxViewers, s.viewers);
      // Kept unless changed: a new copy of the same login for every sighting would only add garbage.
      if (vod.login !== s.login) vod.login = s.login;
    }
    const meta = this.#meta.get(key)!;
    if (meta.floor !== undefined && ms(vod.lastSeen) >= meta.floor) delete meta.floor;
    this.#countSighting(key, s);
    this.#noteNewest(vod.streamerId, key);
  }

  /**
   * A fetch result: `live` means the playlist had no #EXT-X-ENDLIST, so the stream was live when it
   * was fetched. The VOD is tracked again as seen then, ends again by absence or restart, and is
   * released again after that end's mute run. A result no newer than the last sighting changes
   * nothing (redelivery); other outcomes are the writer's.
   */
  applyResult(r: VodFetchResult): void {
    if (r.outcome !== "live") return;
    const key = vodKeyOf(r.streamId, r.startTime);
    const fetched = ms(r.fetchedAt);
    const packed = this.#released.get(key);
    if (packed && fetched > packed.lastSeen) this.#unpack(key, packed, r.login);
    const vod = this.vods.get(key);
    if (!vod || fetched <= ms(vod.lastSeen)) {
      this.counters.liveResultsIgnored++;
      return;
    }
    this.counters.liveResults++;
    vod.liveResults = (vod.liveResults ?? 0) + 1;
    if (vod.status !== "live") relive(vod);
    vod.lastSeen = iso(fetched);
    delete vod.seenExact;
    delete vod.missedAt;
    const meta = this.#meta.get(key)!;
    if (meta.floor !== undefined && fetched >= meta.floor) delete meta.floor;
    this.#touch(key);
  }

  /**
   * Only complete sweeps are kept: an incomplete one is never evidence that a stream ended. A marker
   * counts this partition's snapshots only; one without a partition (version 1) or naming another
   * partition cannot be matched with what this tracker handled, and is ignored.
   */
  addMarker(marker: SweepMarker, now: number): void {
    if (marker.v !== 2 || marker.partition !== this.partition) {
      this.counters.markersIgnored++;
      return;
    }
    if (!marker.complete) {
      this.#sweeps.dropIncomplete(marker.sweepId);
      return;
    }
    this.#sweeps.setPending({ marker, receivedAt: iso(now) });
    this.#touch(sweepKeyOf(marker.sweepId, this.partition));
  }

  /**
   * Evaluates complete sweeps, oldest first, once all their snapshots were handled. When the
   * inputs are caught up, a sweep still short of snapshots never will be complete here: abandoned.
   */
  evaluate(caughtUp: boolean): void {
    for (const p of this.#sweeps.ordered()) {
      const id = p.marker.sweepId;
      if (this.#sweeps.isReady(p.marker)) {
        this.#evaluateSweep(p.marker);
        this.counters.sweepsEvaluated++;
      } else if (caughtUp) {
        this.counters.sweepsAbandoned++;
      } else {
        break;
      }
      this.#sweeps.finish(id);
      this.#log.tombstone(sweepKeyOf(id, this.partition));
    }
    this.#sweeps.trim();
  }

  get pendingSweeps(): number {
    return this.#sweeps.pendingCount;
  }

  /** The earliest release time among ended VODs. */
  nextReleaseAt(): number | undefined {
    return this.#due.next();
  }

  /**
   * Fetch requests due at `now`, in release-time order; they stay due until `markReleased`. A due
   * VOD that never reached `minViewers` is forgotten here instead (its record is tombstoned).
   */
  due(now: number, limit = 500): { key: string; request: VodFetchRequest }[] {
    const out: { key: string; request: VodFetchRequest }[] = [];
    const taken: DueEntry[] = [];
    while (out.length < limit) {
      const at = this.nextReleaseAt();
      if (at === undefined || at > now) break;
      const head = this.#due.take();
      const vod = this.vods.get(head.key)!;
      if (vod.maxViewers < this.options.minViewers) {
        this.counters.forgottenUnderMin++;
        this.#drop(head.key);
        continue;
      }
      taken.push(head);
      if (out.some((o) => o.key === head.key)) continue;
      out.push({ key: head.key, request: requestOf(vod) });
    }
    this.#due.putBack(taken);
    return out;
  }

  markReleased(key: string, now: number): void {
    const vod = this.vods.get(key);
    if (!vod || vod.status !== "ended") return;
    vod.status = "released";
    vod.releasedAt = iso(now);
    this.#touch(key);
  }

  /**
   * A fetch request of this VOD found at restore among the partition's recent releases: unless the VOD
   * was seen after that release (tracked again for real), it is released, whatever its restored record
   * says. A record can trail its release: written apart from it by an older version, or late, by a
   * member that had lost the partition and did not know yet. Returns whether it changed anything.
   */
  reconcileRelease(request: VodFetchRequest, now: number): boolean {
    const key = vodKeyOf(request.streamId, request.startTime);
    const vod = this.vods.get(key);
    if (!vod || vod.status === "released") return false;
    if (ms(vod.lastSeen) > ms(request.lastSeen)) return false;
    // A live result after the release tracked it again: this release is not its latest.
    if ((vod.liveResults ?? 0) > (request.liveResults ?? 0)) return false;
    vod.status = "released";
    vod.endedAt ??= request.lastSeen;
    vod.endReason ??= "absent";
    vod.releaseAt = request.releaseAt;
    vod.releasedAt = iso(now);
    vod.lastSeen = request.lastSeen;
    delete vod.seenExact;
    delete vod.missedAt;
    this.#touch(key);
    return true;
  }

  /** Forgets released VODs after the retention (their records are tombstoned). */
  prune(now: number): void {
    const retention = this.options.releasedRetentionMs;
    for (const [key, vod] of this.vods) {
      if (vod.status === "released" && vod.releasedAt && ms(vod.releasedAt) + retention <= now) this.#drop(key);
    }
    for (const key of this.#released.expired(now, retention)) this.#drop(key);
  }

  /** Records to write to the state topic, and keys to tombstone. Call `flushed` once they are acknowledged. */
  changes(): { records: DelayState[]; tombstones: string[]; marks: Map<string, number> } {
    const records: DelayState[] = [];
    for (const key of this.#log.dirtyKeys()) {
      const sweep = sweepIdOfKey(key);
      if (sweep !== undefined) {
        const p = this.#sweeps.pending(sweep);
        if (p) records.push({ v: 1, kind: "sweep", marker: p.marker, receivedAt: p.receivedAt });
      } else {
        const vod = this.vods.get(key);
        if (vod) records.push({ ...vod });
      }
    }
    if (this.#progress > this.#progressWritten)
      records.push({ v: 1, kind: "progress", observedAt: iso(this.#progress), partition: this.partition });
    return { records, ...this.#log.take() };
  }

  flushed(written: { records: DelayState[]; tombstones: string[]; marks: Map<string, number> }): void {
    this.#log.written(written.marks, written.tombstones);
    for (const r of written.records)
      if (r.kind === "progress") this.#progressWritten = Math.max(this.#progressWritten, ms(r.observedAt));
    // Their "released" record is written: from now on only late sightings need them, kept compactly.
    for (const r of written.records) {
      if (r.kind !== "vod" || r.status !== "released") continue;
      const key = vodKeyOf(r.streamId, r.startTime);
      const vod = this.vods.get(key);
      if (vod?.status === "released" && !this.#log.isDirty(key)) {
        this.vods.delete(key);
        this.#meta.delete(key);
        this.#released.pack(key, vod);
      }
    }
  }

  /** Released VODs remembered (compactly) against late sightings. */
  get releasedCount(): number {
    return this.#released.size;
  }

  /** Sweeps with snapshot counts or counted sightings in memory (bounded; for tests and metrics). */
  get sweepBookkeeping(): { counts: number; untracked: number; pending: number } {
    return this.#sweeps.bookkeeping;
  }

  /** The latest sweeps that counted this VOD (in memory only). */
  sweepsOf(key: string): readonly string[] {
    return this.#meta.get(key)?.counted ?? [];
  }

  /** Records waiting to be written (for tests and metrics). */
  get dirtyCount(): number {
    return this.#log.size;
  }

  /**
   * One string per distinct sighting time: a sweep's snapshots share a handful of `observedAt`
   * values (one per page), and each VOD would otherwise keep its own copy of its last one.
   */
  #time(value: string): string {
    return this.#times.intern(value);
  }

  #touch(key: string): void {
    this.#log.touch(key);
  }

  /** Clock time this VOD may have been seen last: its last sighting, or later after a restart. */
  #seenAt(key: string, vod: DelayVod): number {
    return Math.max(ms(vod.lastSeen), this.#meta.get(key)?.floor ?? 0);
  }

  /** `endAt`: the latest the stream can have been live; its first mute run after that is awaited. */
  #end(key: string, vod: DelayVod, reason: "absent" | "restart", evidenceAt: number, endAt: number): void {
    const at = Math.max(releaseTime(endAt, this.options), evidenceAt);
    vod.status = "ended";
    vod.endReason = reason;
    vod.endedAt = iso(evidenceAt);
    vod.releaseAt = iso(at);
    this.#due.push(at, key);
    this.#touch(key);
    if (reason === "absent") this.counters.endedAbsent++;
    else this.counters.endedRestart++;
  }

  /**
   * Every snapshot of the sweep was handled (counted before the marker is evaluated), so a live VOD
   * last seen before the sweep started is not in it. The first complete sweep that misses a VOD writes
   * its exact last sighting: after a restart it ends on time instead of `END_AFTER` after the progress.
   */
  #evaluateSweep(marker: SweepMarker): void {
    const started = ms(marker.startedAt);
    const threshold = started - this.options.endAfterMs;
    const evidence = ms(marker.finishedAt);
    for (const [key, vod] of this.vods) {
      if (vod.status !== "live") continue;
      const seenAt = this.#seenAt(key, vod);
      if (seenAt <= threshold) {
        // It ended after its last sighting and before the first complete sweep that missed it read the
        // stream's page, which can be as late as that sweep's end: the release awaits the first mute run
        // after it. Sweeps every few minutes keep the two close; when GQL failed for half an hour in
        // between, the stream may have run on for it, and a sweep that began before a mute boundary may
        // have read its page after it. Without a record of that sweep (a VOD restored with a floor), this
        // one's start stands in, as before.
        const missed = vod.missedAt === undefined ? started : ms(vod.missedAt);
        this.#end(key, vod, "absent", evidence, Math.max(seenAt, missed - this.options.muteMinGapMs));
      } else if (!vod.seenExact && ms(vod.lastSeen) < started && this.#meta.get(key)?.floor === undefined) {
        vod.seenExact = true;
        vod.missedAt = iso(evidence);
        this.#touch(key);
      }
    }
  }

  /** Counts a sighting toward its sweep's snapshot count, once per VOD (redelivery does not count twice). */
  #countSighting(key: string, s: StreamSnapshot): void {
    this.#sweeps.count(key, s.sweepId, this.#meta.get(key));
  }

  #noteNewest(streamerId: string, key: string): void {
    const current = this.#newest.get(streamerId);
    if (current === undefined || startOfKey(key) >= startOfKey(current)) this.#newest.set(streamerId, key);
  }

  /** A released VOD's record again (still released), to be tracked after a newer sighting or a live result. */
  #unpack(key: string, r: Released, login: string): void {
    this.vods.set(key, this.#released.unpack(key, r, login));
    this.#meta.set(key, { counted: [] });
  }

  /** Forgets a VOD and tombstones its record. */
  #drop(key: string): void {
    this.#forget(key);
    this.#log.tombstone(key);
  }

  #forget(key: string): void {
    const streamerId = this.vods.get(key)?.streamerId ?? this.#released.get(key)?.streamerId;
    this.vods.delete(key);
    this.#released.delete(key);
    this.#meta.delete(key);
    if (streamerId !== undefined && this.#newest.get(streamerId) === key) this.#newest.delete(streamerId);
  }
}
