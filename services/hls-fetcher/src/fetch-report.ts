import type { VodFetchResult } from "@vod/kafka";
import type { Candidate } from "@vod/twitch";
import type { CdnAnswer } from "./http.ts";

export interface FetchCounters {
  request?(domain: string, answer: CdnAnswer): void;
  outcome?(outcome: VodFetchResult["outcome"], requests: number): void;
  discovered?(domain: string): void;
}

/** A search stopped early: what the deep search needs to carry on. */
export interface DeepStart {
  /** Probability that the VOD is on the CDN before the first search. */
  prior: number;
  /** Candidates that answered 403/404, as `candidateId`. */
  tried: string[];
  /**
   * Finding this VOD would tell whether its streamer hides its archives or saves none (an empty
   * listing, no VOD of it found yet): worth a deeper search, since every later VOD is priced by it.
   */
  decidesStreamer: boolean;
}

export interface FetchReport {
  result: VodFetchResult;
  deep?: DeepStart;
}

export const candidateId = (c: Pick<Candidate, "domain" | "ts">): string => `${c.domain} ${c.ts}`;
