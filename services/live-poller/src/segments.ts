import { backoffDelay } from "@vod/backoff";
import type { GqlError } from "@vod/twitch";
import type { PageMark, ShardPlan } from "./shards.ts";
import type { SweepRun } from "./sweep.ts";

export type SegmentState = "ready" | "inflight" | "done" | "dead" | "failed";

export interface Segment {
  shard: ShardRun;
  index: number;
  after: string | null;
  pages: number;
  attempts: number;
  notBefore: number;
  state: SegmentState;
  /** Fewest viewers on this segment's first page: the segment before it may stop below this. */
  joinAt: number | null;
  /** Streamers on this segment's first page: the one before it may stop once it has read half of them. */
  joinIds: Set<string> | null;
  /** Streamers of the next segment's first page read by this one so far. */
  joinSeen: Set<string>;
  /** Streamers the next page should start with (the overlap); others there mean the list was re-sorted. */
  expect: string[];
}

export interface ShardRun {
  plan: ShardPlan;
  segments: Segment[];
  count: number;
  pages: number;
  failure: string | null;
  marks: PageMark[];
}

/** One segment from each start of each shard's plan; `segments` holds them all, shard by shard. */
export function segmentsOf(plans: readonly ShardPlan[]): { shards: ShardRun[]; segments: Segment[] } {
  const shards: ShardRun[] = plans.map((plan) => ({
    plan,
    segments: [],
    count: 0,
    pages: 0,
    failure: null,
    marks: [],
  }));
  const segments: Segment[] = [];
  for (const shard of shards) {
    shard.plan.starts.forEach((after, index) => {
      const seg: Segment = {
        shard,
        index,
        after,
        pages: 0,
        attempts: 0,
        notBefore: 0,
        state: "ready",
        joinAt: null,
        joinIds: null,
        joinSeen: new Set(),
        expect: [],
      };
      shard.segments.push(seg);
      segments.push(seg);
    });
  }
  return { shards, segments };
}

/** Not finished: waiting for its next page, or with a page in flight. */
export const inPlay = (seg: Segment): boolean => seg.state === "ready" || seg.state === "inflight";

/** The next segment of the shard still in play: the one this segment may join. */
export const successorOf = (seg: Segment): Segment | undefined =>
  seg.shard.segments.slice(seg.index + 1).find((s) => s.state !== "dead");

/**
 * A page that failed: asked again after a backoff while retries are left; then a later segment that
 * never read a page is dead (the one before it covers its part), any other fails its shard.
 */
export function failPage(run: SweepRun, seg: Segment, error: GqlError): void {
  const { options, deps } = run;
  seg.attempts++;
  if (seg.attempts <= options.retries) {
    const delayMs = backoffDelay(
      seg.attempts - 1,
      { initialMs: options.backoffInitialMs, maxMs: options.backoffMaxMs },
      run.random,
    );
    deps.onRetry?.({ shard: seg.shard.plan.shard.name, attempt: seg.attempts, delayMs, error });
    seg.notBefore = performance.now() + delayMs;
    seg.state = "ready";
    return;
  }
  if (seg.index > 0 && seg.pages === 0) {
    // Its start cursor came from the last sweep; the segment before it does not stop for it.
    seg.state = "dead";
    deps.onDeadSegment?.({
      shard: seg.shard.plan.shard.name,
      segment: seg.index,
      reason: `gql ${error.kind}: ${error.message}`,
    });
    return;
  }
  seg.state = "failed";
  seg.shard.failure ??= `shard ${seg.shard.plan.shard.name}: gql ${error.kind}: ${error.message}`;
}
