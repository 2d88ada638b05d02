import { sleep, withDeadline } from "@vod/backoff";
import type { Clock } from "@vod/clock";
import { encodeMessages, FencedError, type Catalog, type OutgoingPart, type VodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { DelayEnv } from "./env.ts";
import type { GroupView } from "./group.ts";
import { updateGauges, type DelayMetrics } from "./metrics.ts";
import type { Owned } from "./owned.ts";
import type { Partitions } from "./partitions.ts";
import type { StateWriter } from "./state-writer.ts";
import type { TrackerOptions } from "./tracker.ts";

export interface ReleaseLoopDeps {
  env: Pick<DelayEnv, "RELEASE_POLL" | "MAX_ORDER_WAIT" | "RELEASE_TICK_TIMEOUT">;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  metrics: DelayMetrics;
  partitions: Partitions;
  group: GroupView;
  writer: StateWriter;
  trackerOptions: TrackerOptions;
  locked: <T>(work: () => Promise<T>) => Promise<T>;
  stopping: AbortSignal;
  /** Set once the delay cannot go on: the loop ends. */
  dead: () => boolean;
}

/**
 * Releases due VODs in release-time order: each partition's due VODs, once its inputs are caught up
 * (or waited for long enough) and the coordinator confirms the partition as this member's, go out in
 * one transaction with the records saying they did. Runs until stopped; `lastGoodTick` feeds the watchdog.
 */
export class ReleaseLoop {
  /** Real time (performance.now) of the last tick that finished. */
  lastGoodTick = performance.now();
  readonly done: Promise<void>;
  #lastCaughtUpCheck = 0;
  #lastPrune = 0;

  constructor(private readonly deps: ReleaseLoopDeps) {
    this.done = this.#run();
  }

  async #run(): Promise<void> {
    const { env, clock, log, locked, stopping, partitions } = this.deps;
    while (!stopping.aborted && !this.deps.dead()) {
      try {
        await withDeadline(
          locked(async () => {
            if (performance.now() - this.#lastPrune > 60_000) {
              this.#lastPrune = performance.now();
              for (const o of partitions.active()) o.tracker.prune(clock.now());
              updateGauges(this.deps.metrics, partitions.owned.values(), clock.now(), this.deps.trackerOptions);
            }
            await this.#tick();
          }),
          env.RELEASE_TICK_TIMEOUT,
          "release tick",
        );
        this.lastGoodTick = performance.now();
      } catch (err) {
        log.error({ err }, "release tick failed; retrying");
      }
      const next = this.#nextReleaseAt();
      const untilNext = next === undefined ? Infinity : clock.realDelay(next - clock.now());
      await sleep(Math.max(5, Math.min(env.RELEASE_POLL, untilNext)), stopping);
    }
  }

  #nextReleaseAt(): number | undefined {
    let next: number | undefined;
    for (const o of this.deps.partitions.active()) {
      const at = o.tracker.nextReleaseAt();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  async #tick(): Promise<void> {
    const { clock, partitions, writer } = this.deps;
    const now = clock.now();
    const parts = partitions.active();
    const dueNow = parts.some((o) => (o.tracker.nextReleaseAt() ?? Infinity) <= now);
    const checkPending =
      parts.some((o) => o.tracker.pendingSweeps > 0) && performance.now() - this.#lastCaughtUpCheck > 1_000;
    if (!dueNow && !checkPending) return;
    this.#lastCaughtUpCheck = performance.now();
    const upToDate = await this.deps.group.caughtUp(parts.map((o) => o.partition));
    const releasing = parts.filter((o) => this.#ready(o, upToDate.has(o.partition), now));
    if (releasing.length > 0) await this.#release(releasing, now);
    for (const o of parts) if (partitions.isOwned(o)) await writer.flush(o);
  }

  /** Evaluates the partition's sweeps; whether its due releases may go now. */
  #ready(o: Owned, fresh: boolean, now: number): boolean {
    o.tracker.evaluate(fresh);
    // Releases wait until the inputs are handled, so one due earlier but not yet seen ended goes first.
    const head = o.tracker.nextReleaseAt();
    if (head === undefined || head > now) {
      o.blockedSince = undefined;
      return false;
    }
    if (!fresh) o.blockedSince ??= now;
    // Inputs that never settle (a poller publishing without pause) must not hold releases for ever.
    const waitedEnough = o.blockedSince !== undefined && now - o.blockedSince >= this.deps.env.MAX_ORDER_WAIT;
    if (!fresh && !waitedEnough) return false;
    if (!fresh)
      this.deps.log.warn(
        { partition: o.partition, waitedMs: now - o.blockedSince! },
        "releasing before the inputs caught up",
      );
    o.blockedSince = undefined;
    return true;
  }

  async #release(releasing: Owned[], now: number): Promise<void> {
    const { catalog, log, metrics, partitions } = this.deps;
    const confirmed = await this.deps.group.confirmedOwned(partitions.memberId);
    const sent: VodFetchRequest[] = [];
    for (const o of releasing) {
      // Revoked, or not confirmed by the coordinator: the partition may be another member's now.
      if (partitions.suspended || !partitions.isOwned(o) || !confirmed.has(o.partition) || !o.releaser) {
        // Once per hold, not at every poll of a rebalance.
        if (o.heldSince === undefined) {
          o.heldSince = now;
          log.warn(
            {
              partition: o.partition,
              suspended: partitions.suspended,
              owned: partitions.isOwned(o),
              confirmed: [...confirmed],
            },
            "due releases held: the partition is not confirmed as this member's",
          );
        }
        continue;
      }
      if (o.heldSince !== undefined)
        log.info({ partition: o.partition, heldMs: now - o.heldSince }, "due releases no longer held");
      o.heldSince = undefined;
      const due = o.tracker.due(now);
      if (due.length === 0) continue;
      // The releases and the records saying they happened (with every other pending change of the
      // partition) in one transaction: a crash or a handover at any step leaves both or neither.
      for (const d of due) o.tracker.markReleased(d.key, now);
      try {
        await this.#releaseOrReclaim(
          o,
          encodeMessages(
            catalog.vodFetchRequests,
            due.map((d) => d.request),
          ),
        );
        o.failingSince = undefined;
      } catch {
        // Reclaimed: whether the releases became visible is settled by claiming the id again, and the
        // restore reads what is committed. Its trackers' marks are dropped with it.
        continue;
      }
      sent.push(...due.map((d) => d.request));
      log.debug({ partition: o.partition, keys: due.map((d) => d.key) }, "released");
    }
    if (sent.length === 0) return;
    metrics.released.inc(sent.length);
    const last = sent.reduce((a, b) => (Date.parse(b.releaseAt) > Date.parse(a.releaseAt) ? b : a));
    metrics.lateness.set((now - Date.parse(last.releaseAt)) / 1000);
    log.info(
      { count: sent.length, partitions: releasing.map((o) => o.partition), last: last.releaseAt },
      "released VODs",
    );
  }

  /**
   * Releases a partition's due VODs. A failed transaction leaves its fate to the broker (a commit can
   * time out and still land) and may leave the producer unusable (fenced, or a transaction still open
   * after a deadline), while the tracker has marked them released: the tracker is dropped and the
   * partition restored from what is committed, under a new producer whose claim settles the transaction.
   */
  async #releaseOrReclaim(o: Owned, releases: OutgoingPart): Promise<void> {
    try {
      await this.deps.writer.flush(o, releases);
    } catch (err) {
      // Before the reclaim, which hands it on: the restores that follow do not reset it, a release does.
      o.failingSince ??= performance.now();
      if (this.deps.partitions.isOwned(o)) {
        this.deps.log.warn(
          { err, partition: o.partition, fenced: err instanceof FencedError },
          "releasing failed; restoring the partition from what is committed, once confirmed as ours",
        );
        this.deps.partitions.reclaim(o);
      }
      throw err;
    }
  }
}
