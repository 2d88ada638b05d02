import { randomBytes } from "node:crypto";
import type { Clock } from "@vod/clock";
import type { StreamSnapshot, SweepMarker } from "@vod/kafka";
import { GqlError, LIVE_STREAMS_QUERY, liveStreamsVariables, parseLiveStreamsPage, type GqlClient } from "@vod/twitch";

export interface SweepOptions {
  pageSize: number;
  overlap: number;
  minViewers: number;
  maxPages: number;
  dropTolerance: number;
}

export interface SweepDeps {
  gql: GqlClient;
  clock: Clock;
  /** Publishes one page's new snapshots; must resolve only once they are acknowledged. */
  publish(snapshots: StreamSnapshot[]): Promise<void>;
  onDropped?(reasons: string[]): void;
  onPage?(): void;
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

/**
 * One pass over the live streams, most viewers first, until viewers fall below the threshold or
 * the pages end. Returns the marker to publish: complete only if every page was read and answers
 * were sound; a GQL failure (after the client's retries), shutdown or timeout makes it incomplete.
 */
export async function runSweep(sweepId: string, options: SweepOptions, deps: SweepDeps, signal: AbortSignal): Promise<SweepMarker> {
  const { gql, clock, publish } = deps;
  const startedAt = clock.now();
  const seen = new Set<string>();
  let after: string | null = null;
  let pages = 0;
  let edges = 0;
  let dropped = 0;
  let count = 0;
  let reason: string | null = null;

  for (;;) {
    if (signal.aborted) {
      reason = `cut short: ${String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? "aborted"))}`;
      break;
    }
    if (pages >= options.maxPages) {
      reason = `page limit (${options.maxPages}) reached`;
      break;
    }
    let data: unknown;
    try {
      data = (await gql.query(LIVE_STREAMS_QUERY, liveStreamsVariables(options.pageSize, after), signal)).data;
    } catch (err) {
      if (signal.aborted) continue;
      const e = err instanceof GqlError ? err : new GqlError("network", String(err));
      reason = `gql ${e.kind}: ${e.message}`;
      break;
    }
    const parsed = parseLiveStreamsPage(data);
    if (!parsed.ok) {
      reason = `gql answer: ${parsed.reason}`;
      break;
    }
    pages++;
    deps.onPage?.();
    const page = parsed.page;
    const observedAt = new Date(clock.now()).toISOString();
    edges += page.cursors.length;
    if (page.dropped.length > 0) {
      dropped += page.dropped.length;
      deps.onDropped?.(page.dropped);
    }
    const fresh: StreamSnapshot[] = [];
    for (const s of page.streams) {
      if (s.viewers < options.minViewers || seen.has(s.streamerId)) continue;
      seen.add(s.streamerId);
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
    }
    try {
      await publish(fresh);
    } catch (err) {
      reason = `kafka: ${(err as Error).message}`;
      break;
    }
    count += fresh.length;
    const viewers = page.viewers.filter((v): v is number => v !== null);
    if (page.cursors.length === 0 || !page.hasNextPage) break;
    if (viewers.length > 0 && Math.min(...viewers) < options.minViewers) break;
    const cursor = nextCursor(page.cursors, options.overlap, after);
    if (cursor === null) {
      reason = "gql answer: a page without cursors";
      break;
    }
    after = cursor;
  }
  if (reason === null && dropped > options.dropTolerance * Math.max(edges, 1)) {
    reason = `dropped ${dropped} of ${edges} streams as invalid`;
  }
  return {
    v: 1,
    sweepId,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(clock.now()).toISOString(),
    complete: reason === null,
    reason,
    count,
  };
}
