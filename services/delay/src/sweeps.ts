import type { SweepMarkerV2 } from "@vod/kafka";

export interface PendingSweep {
  marker: SweepMarkerV2;
  receivedAt: string;
}

/**
 * Sweep bookkeeping of one partition: complete sweeps waiting to be evaluated, and how many of each
 * sweep's snapshots this process has handled (in memory: a restart abandons the sweeps in flight).
 * A sweep is evaluated once all its snapshots were counted, each VOD once however often redelivered.
 */
export class SweepBook {
  readonly #seen = new Map<string, number>();
  readonly #pending = new Map<string, PendingSweep>();
  /** Sightings of VODs without a live record (released, or stale) already counted, per sweep. */
  readonly #untracked = new Map<string, Set<string>>();

  constructor(private readonly recentSweeps: number) {}

  pending(sweepId: string): PendingSweep | undefined {
    return this.#pending.get(sweepId);
  }

  setPending(p: PendingSweep): void {
    this.#pending.set(p.marker.sweepId, p);
  }

  deletePending(sweepId: string): void {
    this.#pending.delete(sweepId);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** An incomplete sweep is never evidence: its counts go. */
  dropIncomplete(sweepId: string): void {
    this.#seen.delete(sweepId);
    this.#untracked.delete(sweepId);
  }

  /** Pending sweeps, oldest first: the order they are evaluated in. */
  ordered(): PendingSweep[] {
    return [...this.#pending.values()].sort(
      (a, b) =>
        Date.parse(a.marker.startedAt) - Date.parse(b.marker.startedAt) ||
        (a.marker.sweepId < b.marker.sweepId ? -1 : 1),
    );
  }

  /** Whether every snapshot of the sweep was counted here. */
  isReady(marker: SweepMarkerV2): boolean {
    return (this.#seen.get(marker.sweepId) ?? 0) >= marker.count;
  }

  /** Evaluated or abandoned: forgotten. */
  finish(sweepId: string): void {
    this.#pending.delete(sweepId);
    this.#seen.delete(sweepId);
    this.#untracked.delete(sweepId);
  }

  /** Counts of sweeps whose marker never comes (incomplete, or lost) must not pile up. */
  trim(): void {
    if (this.#seen.size <= 4 * this.recentSweeps) return;
    for (const id of this.#seen.keys()) {
      if (this.#seen.size <= 2 * this.recentSweeps) break;
      if (!this.#pending.has(id)) {
        this.#seen.delete(id);
        this.#untracked.delete(id);
      }
    }
  }

  /**
   * Counts a sighting toward its sweep's snapshot count, once per VOD (redelivery does not count
   * twice): through the VOD's own list of recent sweeps when it is tracked, else per sweep.
   */
  count(key: string, sweepId: string, tracked: { counted: string[] } | undefined): void {
    if (tracked) {
      if (tracked.counted.includes(sweepId)) return;
      // One string per sweep id, not one per VOD.
      // A new array of exactly the right length: push would grow the backing store to 17 slots per VOD.
      const counted = tracked.counted.concat(this.#intern(sweepId));
      tracked.counted =
        counted.length > this.recentSweeps ? counted.slice(counted.length - this.recentSweeps) : counted;
    } else {
      let once = this.#untracked.get(sweepId);
      if (!once) this.#untracked.set(sweepId, (once = new Set()));
      if (once.has(key)) return;
      once.add(key);
    }
    this.#seen.set(sweepId, (this.#seen.get(sweepId) ?? 0) + 1);
  }

  /** Sweeps with snapshot counts or counted sightings in memory (bounded; for tests and metrics). */
  get bookkeeping(): { counts: number; untracked: number; pending: number } {
    return { counts: this.#seen.size, untracked: this.#untracked.size, pending: this.#pending.size };
  }

  #intern(id: string): string {
    for (const known of this.#seen.keys()) if (known === id) return known;
    return id;
  }
}
