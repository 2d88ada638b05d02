import { randomBytes } from "node:crypto";
import type { Clock } from "@vod/clock";
import type { StreamSnapshot, SweepMarker } from "@vod/kafka";
import type { GqlBatchClient, GqlError } from "@vod/twitch";
import { SweepLedger } from "./ledger.ts";
import { incompleteReason, shardOutcomes, type ShardOutcome } from "./outcome.ts";
import { pageShards } from "./paging.ts";
import { recheckMissing } from "./recheck.ts";
import { segmentsOf } from "./segments.ts";
import type { ShardPlan } from "./shards.ts";

export interface SweepOptions {
  pageSize: number;
  overlap: number;
  /** Streams at or above this many viewers are published; a chain stops below it. */
  trackMinViewers: number;
  /** Pages per sweep, all shards together: a guard against a chain that never ends. */
  maxPages: number;
  dropTolerance: number;
  /** Operations per POST, and POSTs in flight. */
  batchSize: number;
  concurrency: number;
  /** Attempts after the first for one page; then its shard has failed. */
  retries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A segment stops this share of viewers below where the next one started, for drift between them. */
  joinMargin: number;
  /**
   * When a page shows the list was re-sorted since the last one, the segment steps back to where
   * viewers were this share above its front: streams that jumped over the front are read again.
   * 0 turns it off.
   */
  driftMargin: number;
}

export interface SweepDeps {
  gql: GqlBatchClient;
  clock: Clock;
  /** Publishes one POST's new snapshots; must resolve only once they are acknowledged. */
  publish(snapshots: StreamSnapshot[]): Promise<void>;
  onDropped?(reasons: string[]): void;
  onPage?(): void;
  onPost?(operations: number): void;
  onRetry?(info: { shard: string; attempt: number; delayMs: number; error: GqlError }): void;
  /**
   * Streamers published by the last sweep: those this sweep's pages did not show are looked up by id
   * once the pages are done (a stream whose count jumped over a chain's front is skipped by it).
   */
  recheck?: ReadonlySet<string>;
  /** A saved start cursor that no longer answers: the segment before it covers its part. */
  onDeadSegment?(info: { shard: string; segment: number; reason: string }): void;
  /** The list was re-sorted under a segment: it reads again from `to` viewers down. */
  onStepBack?(info: { shard: string; segment: number; from: number; to: number | null }): void;
  random?: () => number;
}

export interface SweepResult {
  marker: SweepMarker;
  shards: ShardOutcome[];
  pages: number;
  posts: number;
  /** Streamers of the last sweep the pages missed, looked up by id: how many, how many were live and published, how many went unanswered. */
  recheck: { asked: number; published: number; unanswered: number };
  /** Streamers published by this sweep (the next one's `recheck`), with the shard each belongs to. */
  published: Map<string, string>;
}

/** One sweep under way: what the modules that run it (paging, the lookup by id) share. */
export interface SweepRun {
  sweepId: string;
  options: SweepOptions;
  deps: SweepDeps;
  random: () => number;
  /** The caller's signal, or the sweep's own stop once it cannot be complete (page limit, Kafka). */
  halt: AbortSignal;
  stop: AbortController;
  ledger: SweepLedger;
}

/** Sortable by start, unique across pollers. */
export function newSweepId(startedAt: number): string {
  return `${new Date(startedAt).toISOString()}-${randomBytes(3).toString("hex")}`;
}

/**
 * One pass over the live streams at or above the tracking threshold: every shard's segments paged
 * side by side, one page of several segments per POST, merged and deduplicated by streamer.
 * Complete only if every shard completed, nothing was cut short and answers were sound; a page
 * that still fails after its retries fails its shard and so the sweep.
 *
 * The wiring: `segmentsOf` (the segments of each shard's plan), `pageShards` (the POSTs of pages),
 * `readPage` (where a segment goes after each page), `recheckMissing` (the lookup by id),
 * `SweepLedger` (what the sweep saw and published), `shardOutcomes` and `incompleteReason` (the verdict).
 */
export async function runSweep(
  sweepId: string,
  plans: readonly ShardPlan[],
  options: SweepOptions,
  deps: SweepDeps,
  signal: AbortSignal,
): Promise<SweepResult> {
  const { clock } = deps;
  const startedAt = clock.now();
  const stop = new AbortController();
  const ledger = new SweepLedger(sweepId, options.trackMinViewers, deps.publish);
  const run: SweepRun = {
    sweepId,
    options,
    deps,
    random: deps.random ?? Math.random,
    halt: AbortSignal.any([signal, stop.signal]),
    stop,
    ledger,
  };
  const { shards, segments } = segmentsOf(plans);

  await pageShards(run, segments);
  const recheck = await recheckMissing(run, plans);

  const outcomes = shardOutcomes(shards);
  const reason = incompleteReason(signal, ledger, outcomes, options.dropTolerance);
  return {
    marker: {
      v: 1,
      sweepId,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(clock.now()).toISOString(),
      complete: reason === null,
      reason,
      count: ledger.count,
    },
    shards: outcomes,
    pages: ledger.pages,
    posts: ledger.posts,
    recheck,
    published: ledger.published,
  };
}
