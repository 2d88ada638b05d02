import { randomBytes } from "node:crypto";
import { backoffDelay, sleep } from "@vod/backoff";
import type { Clock } from "@vod/clock";
import type { StreamSnapshot, SweepMarker } from "@vod/kafka";
import {
  GqlError,
  LIVE_STREAMS_QUERY,
  LIVE_USERS_QUERY,
  MAX_USERS_PER_QUERY,
  liveStreamsVariables,
  parseLiveStreamsPage,
  parseLiveUsers,
  type GqlBatchClient,
  type GqlOperationResult,
  type LiveStream,
  type LiveStreamsPage,
} from "@vod/twitch";
import type { PageMark, ShardPlan } from "./shards.ts";

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

/** How one shard went: complete only if each of its segments reached its end (or was covered by the one before). */
export interface ShardOutcome {
  name: string;
  complete: boolean;
  reason: string | null;
  /** Streams first published by this shard in this sweep. */
  count: number;
  pages: number;
  segments: number;
  /** Pages read, for the next sweep's plan. */
  marks: PageMark[];
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

/** Sortable by start, unique across pollers. */
export function newSweepId(startedAt: number): string {
  return `${new Date(startedAt).toISOString()}-${randomBytes(3).toString("hex")}`;
}

/** The cursor to continue from: `overlap` of the page is read again, so streams that drift up are not skipped. */
export function nextCursor(cursors: (string | null)[], overlap: number, previous: string | null): string | null {
  const last = cursors.findLast((c) => c !== null) ?? null;
  if (cursors.length === 0) return null;
  const at = Math.max(0, Math.ceil(cursors.length * (1 - overlap)) - 1);
  const chosen = cursors.slice(0, at + 1).findLast((c) => c !== null) ?? last;
  // Never ask for the same page twice: that could loop for ever.
  return chosen === previous ? last : chosen;
}

type SegmentState = "ready" | "inflight" | "done" | "dead" | "failed";

interface Segment {
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

interface ShardRun {
  plan: ShardPlan;
  segments: Segment[];
  count: number;
  pages: number;
  failure: string | null;
  marks: PageMark[];
}

const errorOf = (err: unknown): GqlError =>
  err instanceof GqlError ? err : new GqlError("network", err instanceof Error ? err.message : String(err));

/**
 * One pass over the live streams at or above the tracking threshold: every shard's segments paged
 * side by side, one page of several segments per POST, merged and deduplicated by streamer.
 * Complete only if every shard completed, nothing was cut short and answers were sound; a page
 * that still fails after its retries fails its shard and so the sweep.
 */
export async function runSweep(
  sweepId: string,
  plans: readonly ShardPlan[],
  options: SweepOptions,
  deps: SweepDeps,
  signal: AbortSignal,
): Promise<SweepResult> {
  const { gql, clock, publish } = deps;
  const startedAt = clock.now();
  /** Streamers published, and the shard each belongs to. */
  const seen = new Map<string, string>();
  const stop = new AbortController();
  const halt = AbortSignal.any([signal, stop.signal]);
  const random = deps.random ?? Math.random;
  let pages = 0;
  let posts = 0;
  let edges = 0;
  let dropped = 0;
  let count = 0;
  let fatal: string | null = null;

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

  /** The next segment of the shard still in play: the one this segment may join. */
  const successorOf = (seg: Segment): Segment | undefined =>
    seg.shard.segments.slice(seg.index + 1).find((s) => s.state !== "dead");

  const failPage = (seg: Segment, error: GqlError): void => {
    seg.attempts++;
    if (seg.attempts <= options.retries) {
      const delayMs = backoffDelay(
        seg.attempts - 1,
        { initialMs: options.backoffInitialMs, maxMs: options.backoffMaxMs },
        random,
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
  };

  /** Publishes a stream at or above the tracking threshold, once per sweep. */
  const take = (s: LiveStream, shard: string, observedAt: string, fresh: StreamSnapshot[]): boolean => {
    if (s.viewers < options.trackMinViewers || seen.has(s.streamerId)) return false;
    seen.set(s.streamerId, shard);
    fresh.push({
      v: 1,
      sweepId,
      observedAt,
      streamId: s.streamId,
      startTime: s.startTime,
      streamerId: s.streamerId,
      login: s.login,
      viewers: s.viewers,
      title: s.title,
      gameId: s.gameId,
      gameName: s.gameName,
      language: s.language,
      mature: s.mature,
    });
    return true;
  };

  const readPage = (seg: Segment, page: LiveStreamsPage, observedAt: string, fresh: StreamSnapshot[]): void => {
    const shard = seg.shard;
    seg.pages++;
    shard.pages++;
    pages++;
    seg.attempts = 0;
    deps.onPage?.();
    edges += page.cursors.length;
    if (page.dropped.length > 0) {
      dropped += page.dropped.length;
      deps.onDropped?.(page.dropped);
    }
    const viewers = page.viewers.filter((v): v is number => v !== null);
    const least = viewers.length > 0 ? Math.min(...viewers) : null;
    if (seg.pages === 1 && seg.index > 0) {
      if (page.cursors.length === 0 || least === null) {
        seg.state = "dead";
        deps.onDeadSegment?.({
          shard: shard.plan.shard.name,
          segment: seg.index,
          reason: "its start cursor is past the end of the list",
        });
        return;
      }
      seg.joinAt = least;
      seg.joinIds = new Set(page.streams.map((s) => s.streamerId));
    }
    const top = viewers.length > 0 ? Math.max(...viewers) : null;
    if (top !== null) shard.marks.push({ after: seg.after, top });
    // The page should begin with the overlap of the last one; if not, counts changed and the list
    // was re-sorted: streams from below the front may now be above it, where this segment has been.
    const ids = page.streams.map((x) => x.streamerId);
    const window = new Set(ids.slice(0, seg.expect.length + 2));
    const moved = seg.expect.length > 0 && seg.expect.some((id) => !window.has(id));
    seg.expect = [];
    for (const s of page.streams) if (take(s, shard.plan.shard.name, observedAt, fresh)) shard.count++;
    if (moved && options.driftMargin > 0 && top !== null && page.cursors.length > 0) {
      // Back to the closest page of this shard, whichever segment read it, that began at least the
      // margin above the front: a stream can jump over a segment's start into the one before it.
      const above = top * (1 + options.driftMargin);
      let back: PageMark | undefined;
      for (const m of shard.marks) if (m.top >= above && (!back || m.top < back.top)) back = m;
      const after = back?.after ?? null;
      if (after !== seg.after) {
        deps.onStepBack?.({ shard: shard.plan.shard.name, segment: seg.index, from: top, to: back?.top ?? null });
        seg.after = after;
        seg.state = "ready";
        return;
      }
    }
    if (page.cursors.length === 0 || !page.hasNextPage || (least !== null && least < options.trackMinViewers)) {
      seg.state = "done";
      return;
    }
    // Joined: this segment has read into the first page of the next one, which goes on from there.
    // Judged by where that page now lies in the list, not by one stream (counts move between
    // rebuilds, and one stream can jump hundreds of places): half of that page's streams read, or
    // viewers a margin below the fewest on it.
    const next = successorOf(seg);
    if (next?.joinAt != null && next.joinIds && next.state !== "failed") {
      for (const x of page.streams) if (next.joinIds.has(x.streamerId)) seg.joinSeen.add(x.streamerId);
      const reached =
        seg.joinSeen.size * 2 >= next.joinIds.size ||
        (least !== null && least < next.joinAt * (1 - options.joinMargin));
      if (reached) {
        seg.state = "done";
        return;
      }
    }
    const cursor = nextCursor(page.cursors, options.overlap, seg.after);
    if (cursor === null) {
      seg.state = "failed";
      shard.failure ??= `shard ${shard.plan.shard.name}: gql answer: a page without cursors`;
      return;
    }
    const from = page.cursors.indexOf(cursor);
    seg.expect = from >= 0 && ids.length === page.cursors.length ? ids.slice(from + 1) : [];
    seg.after = cursor;
    seg.state = "ready";
  };

  const handle = (seg: Segment, result: GqlOperationResult, observedAt: string, fresh: StreamSnapshot[]): void => {
    if (!result.ok) {
      if (halt.aborted) seg.state = "ready";
      else failPage(seg, result.error);
      return;
    }
    const parsed = parseLiveStreamsPage(result.data);
    if (!parsed.ok) {
      failPage(seg, new GqlError("graphql", `gql answer: ${parsed.reason}`));
      return;
    }
    readPage(seg, parsed.page, observedAt, fresh);
  };

  const active = () => segments.some((s) => s.state === "ready" || s.state === "inflight");

  const worker = async (): Promise<void> => {
    while (!halt.aborted && active()) {
      if (pages >= options.maxPages) {
        fatal ??= `page limit (${options.maxPages}) reached`;
        stop.abort(new Error(fatal));
        return;
      }
      const now = performance.now();
      // Segments with the fewest pages first: the longest chain is what the sweep waits for.
      const batch = segments
        .filter((s) => s.state === "ready" && s.notBefore <= now)
        .sort((a, b) => a.pages - b.pages)
        .slice(0, options.batchSize);
      if (batch.length === 0) {
        const waits = segments.filter((s) => s.state === "ready").map((s) => s.notBefore - now);
        await sleep(Math.max(5, Math.min(50, ...waits)), halt);
        continue;
      }
      for (const s of batch) s.state = "inflight";
      let results: GqlOperationResult[];
      try {
        posts++;
        deps.onPost?.(batch.length);
        results = await gql.batch(
          batch.map((s) => ({
            document: LIVE_STREAMS_QUERY,
            variables: liveStreamsVariables(options.pageSize, s.after, s.shard.plan.shard.languages),
          })),
          halt,
        );
      } catch (err) {
        const error = errorOf(err);
        results = batch.map(() => ({ ok: false, error }));
      }
      const observedAt = new Date(clock.now()).toISOString();
      const fresh: StreamSnapshot[] = [];
      batch.forEach((seg, i) =>
        handle(
          seg,
          results[i] ?? { ok: false, error: new GqlError("graphql", "no answer for this operation") },
          observedAt,
          fresh,
        ),
      );
      if (fresh.length === 0) continue;
      try {
        await publish(fresh);
        count += fresh.length;
      } catch (err) {
        fatal ??= `kafka: ${(err as Error).message}`;
        stop.abort(new Error(fatal));
      }
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));

  const recheck = { asked: 0, published: 0, unanswered: 0 };
  const shardOf = (language: string | null): string =>
    (
      plans.find((p) => language !== null && p.shard.languages.includes(language)) ??
      plans.find((p) => p.shard.name === "rest") ??
      plans.at(-1)
    )?.shard.name ?? "rest";
  if (deps.recheck && !halt.aborted && fatal === null) {
    const missing = [...deps.recheck].filter((id) => !seen.has(id));
    recheck.asked = missing.length;
    let chunks: string[][] = [];
    for (let i = 0; i < missing.length; i += MAX_USERS_PER_QUERY)
      chunks.push(missing.slice(i, i + MAX_USERS_PER_QUERY));
    for (let attempt = 0; chunks.length > 0 && !halt.aborted; attempt++) {
      if (attempt > options.retries) {
        recheck.unanswered += chunks.reduce((n, c) => n + c.length, 0);
        break;
      }
      if (attempt > 0)
        await sleep(
          backoffDelay(attempt - 1, { initialMs: options.backoffInitialMs, maxMs: options.backoffMaxMs }, random),
          halt,
        ).catch(() => undefined);
      const failed: string[][] = [];
      for (let i = 0; i < chunks.length && !halt.aborted; i += options.batchSize) {
        const batch = chunks.slice(i, i + options.batchSize);
        let results: GqlOperationResult[];
        try {
          posts++;
          deps.onPost?.(batch.length);
          results = await gql.batch(
            batch.map((ids) => ({ document: LIVE_USERS_QUERY, variables: { ids } })),
            halt,
          );
        } catch (err) {
          const error = errorOf(err);
          results = batch.map(() => ({ ok: false, error }));
        }
        const observedAt = new Date(clock.now()).toISOString();
        const fresh: StreamSnapshot[] = [];
        batch.forEach((ids, k) => {
          const result = results[k];
          const parsed = result?.ok ? parseLiveUsers(result.data) : undefined;
          if (!parsed?.ok) return void failed.push(ids);
          if (parsed.dropped.length > 0) deps.onDropped?.(parsed.dropped);
          for (const st of parsed.streams) if (take(st, shardOf(st.language), observedAt, fresh)) recheck.published++;
        });
        if (fresh.length === 0) continue;
        try {
          await publish(fresh);
          count += fresh.length;
        } catch (err) {
          fatal ??= `kafka: ${(err as Error).message}`;
          break;
        }
      }
      chunks = fatal === null ? failed : [];
    }
  }

  const outcomes: ShardOutcome[] = shards.map((shard) => {
    const unfinished = shard.segments.some((s) => s.state === "ready" || s.state === "inflight");
    const reason = shard.failure ?? (unfinished ? `shard ${shard.plan.shard.name}: not finished` : null);
    return {
      name: shard.plan.shard.name,
      complete: reason === null,
      reason,
      count: shard.count,
      pages: shard.pages,
      segments: shard.segments.length,
      marks: shard.marks,
    };
  });
  let reason: string | null = null;
  if (signal.aborted)
    reason = `cut short: ${String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? "aborted"))}`;
  else if (fatal !== null) reason = fatal;
  else {
    const failed = outcomes.filter((o) => !o.complete);
    if (failed.length > 0) reason = failed.map((o) => o.reason).join("; ");
    else if (dropped > options.dropTolerance * Math.max(edges, 1))
      reason = `dropped ${dropped} of ${edges} streams as invalid`;
  }
  return {
    marker: {
      v: 1,
      sweepId,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(clock.now()).toISOString(),
      complete: reason === null,
      reason,
      count,
    },
    shards: outcomes,
    pages,
    posts,
    recheck,
    published: seen,
  };
}
