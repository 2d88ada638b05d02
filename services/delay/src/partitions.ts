import { sleep } from "@vod/backoff";
import type { Assignment } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { Revoked, type Owned } from "./owned.ts";
import { dropReleaser } from "./releaser.ts";
import { Tracker, type TrackerOptions } from "./tracker.ts";

export interface PartitionsDeps {
  log: Logger;
  stopping: AbortSignal;
  trackerOptions: TrackerOptions;
  /** A restore failing this long (real time) is fatal. */
  failureLimitMs: number;
  die: (reason: string, err?: unknown) => void;
  restore: (parts: Owned[], isOwned: (o: Owned) => boolean, memberId: string | undefined) => Promise<void>;
  /** The partitions the group's coordinator confirms as this member's. */
  confirmedOwned: (memberId: string | undefined) => Promise<Set<number>>;
}

/**
 * The snapshot partitions this instance owns, as Kafka Streams owns a task's: taken at an assignment,
 * restored before their messages are handled, dropped at a revocation, and claimed back (or given up)
 * when another member's claim took one over.
 */
export class Partitions {
  readonly owned = new Map<number, Owned>();
  /** This member's id at the last join; a different one means the group went on without it meanwhile. */
  memberId: string | undefined;
  /** From a revocation to the next assignment: nothing is released (the partitions may be another member's). */
  suspended = true;
  /** Partitions restored since start (each assignment of a partition restores it once). */
  restores = 0;

  constructor(private readonly deps: PartitionsDeps) {}

  isOwned = (o: Owned): boolean => this.owned.get(o.partition) === o;

  /** Restored partitions that may act now. */
  active(): Owned[] {
    return this.suspended ? [] : [...this.owned.values()].filter((o) => o.restored);
  }

  /** The partition's tracker, once restored; throws (the batch is retried) if it is not ours. */
  async ownedFor(partition: number): Promise<Owned> {
    const o = this.owned.get(partition);
    if (!o) throw new Revoked(partition);
    await o.ready;
    if (!this.isOwned(o) || !o.restored) throw new Revoked(partition);
    return o;
  }

  onRevoke(reason: string): void {
    this.suspended = true;
    this.deps.log.info({ reason, partitions: [...this.owned.keys()] }, "partitions may be revoked; releases paused");
  }

  onAssign(assignment: Assignment): void {
    const mine = new Set(Object.values(assignment.partitions).flat());
    // Kept only while the membership went on without a gap: with a new member id, another member may
    // have owned (and changed) the partition meanwhile.
    const continuous = assignment.memberId === this.memberId;
    this.memberId = assignment.memberId;
    for (const p of [...this.owned.keys()]) {
      if (continuous && mine.has(p)) continue;
      // Not flushed here: each change was flushed when it was made, and the new owner may already be reading.
      dropReleaser(this.owned.get(p)!, this.deps.log);
      this.owned.delete(p);
    }
    const fresh: Owned[] = [];
    for (const p of [...mine].sort((a, b) => a - b)) {
      if (this.owned.has(p)) continue;
      fresh.push(this.#take(p));
    }
    if (fresh.length > 0) {
      const ready = this.#restoreRetrying(fresh);
      for (const o of fresh) o.ready = ready;
    }
    this.suspended = false;
    this.deps.log.info(
      { memberId: this.memberId, partitions: [...this.owned.keys()], restoring: fresh.map((o) => o.partition) },
      "partitions assigned",
    );
  }

  /**
   * After this member's claim on a partition was taken over: if the group's coordinator still lists the
   * partition as this member's, claims it back (fencing the other) and restores its state again, since
   * the other may have changed it; until then the partition's messages wait. A rebalance that moves the
   * partition away ends the wait.
   */
  reclaim(o: Owned): void {
    dropReleaser(o, this.deps.log);
    const again = this.#take(o.partition);
    if (o.failingSince !== undefined) again.failingSince = o.failingSince;
    again.ready = (async () => {
      while (!this.deps.stopping.aborted && this.isOwned(again)) {
        const confirmed = await this.deps.confirmedOwned(this.memberId).catch(() => new Set<number>());
        if (confirmed.has(again.partition)) return this.#restoreRetrying([again]);
        await sleep(1_000, this.deps.stopping);
      }
    })();
  }

  /** Gives every partition up (at stop): their producers are closed. */
  clear(): void {
    for (const o of this.owned.values()) dropReleaser(o, this.deps.log);
    this.owned.clear();
  }

  /** A partition owned from now on, with an empty tracker until its state is restored. */
  #take(partition: number): Owned {
    const o: Owned = {
      partition,
      tracker: new Tracker({ ...this.deps.trackerOptions, partition }),
      ready: Promise.resolve(),
      restored: false,
    };
    this.owned.set(partition, o);
    return o;
  }

  /**
   * Restores until it succeeds or the partitions are no longer ours; each attempt from empty trackers
   * and new producers. Failing for the failure limit is fatal: the partitions' releases wait meanwhile.
   */
  async #restoreRetrying(all: Owned[]): Promise<void> {
    const { log, stopping } = this.deps;
    const since = performance.now();
    for (let attempt = 0; ; attempt++) {
      const parts = all.filter(this.isOwned);
      if (stopping.aborted || parts.length === 0) return;
      try {
        await this.deps.restore(parts, this.isOwned, this.memberId);
        this.restores += parts.length;
        return;
      } catch (err) {
        log.error({ err, partitions: parts.map((o) => o.partition), attempt }, "restoring partitions failed; retrying");
        if (performance.now() - since >= this.deps.failureLimitMs)
          return this.deps.die("restoring partitions failing", err);
        for (const o of parts) {
          dropReleaser(o, log);
          o.tracker = new Tracker({ ...this.deps.trackerOptions, partition: o.partition });
        }
        await sleep(Math.min(30_000, 500 * 2 ** attempt), stopping);
      }
    }
  }
}
