import type { Db } from "@vod/db";
import { CdnClient } from "./http.ts";
import type { StartTime } from "./input.ts";
import type { RecoverOptions } from "./recover.ts";
import type { NotFound } from "./result.ts";
import type { SearchTried } from "./search.ts";
import type { StreamerListing } from "./sources.ts";

/** One recovery under way: its options, its CDN client and budget, and what it has tried so far. */
export interface RecoverRun {
  o: RecoverOptions;
  client: CdnClient;
  /** A domain's root URL. */
  baseUrl: (domain: string) => string;
  note: (message: string) => void;
  signal: AbortSignal;
  now: () => number;
  /** The sources consulted, in order, for the answer and for "not found". */
  sources: string[];
  /** Seconds since the run began. */
  elapsed: () => number;
  /** What was tried, for a NotFound thrown now. */
  tried: (search: SearchTried | null) => NotFound["tried"];
}

/** Opens a run: the CDN client (closed by the caller when done) notes each wait for the politeness budget. */
export function startRun(o: RecoverOptions): RecoverRun {
  const startedAt = performance.now();
  const note = o.note ?? (() => undefined);
  const client = new CdnClient({
    ...o.cdn,
    onBudgetSpent: (ms) =>
      note(
        `politeness budget spent (${o.cdn.budget} requests per ${Math.round(o.cdn.windowMs / 1000)} s); waiting ${Math.ceil(ms / 1000)} s`,
      ),
  });
  const sources: string[] = [];
  const elapsed = () => Math.round(performance.now() - startedAt) / 1000;
  return {
    o,
    client,
    baseUrl: (domain: string) => o.urlTemplate.replaceAll("{domain}", domain),
    note,
    signal: o.signal ?? new AbortController().signal,
    now: o.now ?? Date.now,
    sources,
    elapsed,
    tried: (search) => ({ sources, search, requests: client.requests, seconds: elapsed() }),
  };
}

/** A domain that may be requested: configured, or one a seekPreviewsURL may teach. */
export function usable(domain: string, o: Pick<RecoverOptions, "domains" | "discoverable">): boolean {
  return o.domains.includes(domain) || o.discoverable.test(domain);
}

/** What the sources have told about the stream so far; each step adds to it. */
export interface Known {
  streamId: string;
  login: string | undefined;
  /** The time given (or the video's start), if any. */
  time: StartTime | undefined;
  /** The start to the second, once the time given or a source says it. */
  exact: StartTime | undefined;
  streamerId: string | undefined;
  /** Our archive saw the stream live (and did not find its VOD). */
  seenLive: boolean;
  /** Our archive while it answers; undefined when absent or unreadable. */
  db: Db | undefined;
  /** The streamer's GraphQL listing, once asked for and answered. */
  listing: StreamerListing | null;
}
