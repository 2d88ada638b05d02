import type { StreamSnapshot } from "@vod/kafka";
import type { LiveStreamsPage } from "@vod/twitch";
import { successorOf, type Segment } from "./segments.ts";
import type { PageMark } from "./shards.ts";
import type { SweepRun } from "./sweep.ts";

/** The cursor to continue from: `overlap` of the page is read again, so streams that drift up are not skipped. */
export function nextCursor(cursors: (string | null)[], overlap: number, previous: string | null): string | null {
  const last = cursors.findLast((c) => c !== null) ?? null;
  if (cursors.length === 0) return null;
  const at = Math.max(0, Math.ceil(cursors.length * (1 - overlap)) - 1);
  const chosen = cursors.slice(0, at + 1).findLast((c) => c !== null) ?? last;
  // Never ask for the same page twice: that could loop for ever.
  return chosen === previous ? last : chosen;
}

/**
 * Reads one page of a segment: its new streams go into `fresh`, and the segment either reads on from
 * the page's overlap, steps back (the list was re-sorted under it), joins the next segment, or is done.
 */
export function readPage(
  run: SweepRun,
  seg: Segment,
  page: LiveStreamsPage,
  observedAt: string,
  fresh: StreamSnapshot[],
): void {
  const { options, deps, ledger } = run;
  const shard = seg.shard;
  seg.pages++;
  shard.pages++;
  ledger.pages++;
  seg.attempts = 0;
  deps.onPage?.();
  ledger.edges += page.cursors.length;
  if (page.dropped.length > 0) {
    ledger.dropped += page.dropped.length;
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
  for (const s of page.streams) if (ledger.take(s, shard.plan.shard.name, observedAt, fresh)) shard.count++;
  if (moved && options.driftMargin > 0 && top !== null && page.cursors.length > 0 && steppedBack(run, seg, top)) return;
  if (page.cursors.length === 0 || !page.hasNextPage || (least !== null && least < options.trackMinViewers)) {
    seg.state = "done";
    return;
  }
  if (joined(run, seg, page, least)) {
    seg.state = "done";
    return;
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
}

/**
 * Back to the closest page of this shard, whichever segment read it, that began at least the
 * margin above the front: a stream can jump over a segment's start into the one before it.
 * False if that is where the segment reads already.
 */
function steppedBack(run: SweepRun, seg: Segment, top: number): boolean {
  const shard = seg.shard;
  const above = top * (1 + run.options.driftMargin);
  let back: PageMark | undefined;
  for (const m of shard.marks) if (m.top >= above && (!back || m.top < back.top)) back = m;
  const after = back?.after ?? null;
  if (after === seg.after) return false;
  run.deps.onStepBack?.({ shard: shard.plan.shard.name, segment: seg.index, from: top, to: back?.top ?? null });
  seg.after = after;
  seg.state = "ready";
  return true;
}

/**
 * Joined: this segment has read into the first page of the next one, which goes on from there.
 * Judged by where that page now lies in the list, not by one stream (counts move between
 * rebuilds, and one stream can jump hundreds of places): half of that page's streams read, or
 * viewers a margin below the fewest on it.
 */
function joined(run: SweepRun, seg: Segment, page: LiveStreamsPage, least: number | null): boolean {
  const next = successorOf(seg);
  if (next?.joinAt == null || !next.joinIds || next.state === "failed") return false;
  for (const x of page.streams) if (next.joinIds.has(x.streamerId)) seg.joinSeen.add(x.streamerId);
  return (
    seg.joinSeen.size * 2 >= next.joinIds.size || (least !== null && least < next.joinAt * (1 - run.options.joinMargin))
  );
}
