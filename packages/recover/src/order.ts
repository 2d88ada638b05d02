import { orderCandidates, type Candidate } from "@vod/twitch";
import type { StartTime } from "./input.ts";

export interface DomainKnowledge {
  /** Domains to try: configured, then learned ones (from the fetcher's table and this run's GQL answers). */
  domains: readonly string[];
  /** Where the streamer's VODs were last seen (our archive, or its listing); tried first. */
  streamerDomain: string | undefined;
  /** The fetcher's decayed success score per domain (0 when unknown). */
  score: (domain: string) => number;
}

/** Where in the order a candidate comes from, for "what was tried". */
export type CandidateBand = "given" | "seconds-field" | "neighbour";

export interface SearchCandidate extends Candidate {
  band: CandidateBand;
}

/**
 * Weight of each neighbouring minute against the minute given (trackers and people are off by a
 * minute, rarely); it orders candidates inside the neighbour band only, which comes last.
 */
const NEIGHBOUR_WEIGHT = 0.05;
/**
 * Bands in order: the forms of the time given on every domain, then the seconds-field forms (a
 * same-id restart), then the minutes either side. A same-id restart's other VOD starts minutes
 * away, so the neighbouring minutes would find it before the seconds field of the VOD asked for.
 */
const BAND_ORDER: Record<CandidateBand, number> = { given: 0, "seconds-field": 1, neighbour: 2 };
const NO_HITS = { start: 0, minus1: 0, seconds: 0 };

/**
 * Every (domain, timestamp) for a VOD whose start is known to the second or the minute, likeliest
 * first within its band, ranked by the fetcher's `orderCandidates` for each second the start may be:
 * exact → the start and one second less, then the seconds field; a minute → every second of it,
 * then the seconds-field forms, and only after them the minutes either side. Duplicates (one
 * second's start is the next one's −1 s) are merged, their probabilities added. Ties go domain by
 * domain, in the order given.
 */
export function searchCandidates(
  login: string,
  streamId: string,
  time: StartTime,
  k: DomainKnowledge,
): SearchCandidate[] {
  const starts: { ms: number; weight: number; band: "given" | "neighbour" }[] = [];
  if (time.precision === "second") starts.push({ ms: time.ms, weight: 1, band: "given" });
  else {
    for (let s = 0; s < 60; s++) starts.push({ ms: time.ms + s * 1000, weight: 1 / 60, band: "given" });
    for (let s = 0; s < 60; s++) {
      starts.push({ ms: time.ms - 60_000 + s * 1000, weight: NEIGHBOUR_WEIGHT / 60, band: "neighbour" });
      starts.push({ ms: time.ms + 60_000 + s * 1000, weight: NEIGHBOUR_WEIGHT / 60, band: "neighbour" });
    }
  }
  const merged = new Map<string, SearchCandidate & { rank: number }>();
  // Equally likely candidates: one domain's whole span before the next's (configured order).
  const domainRank = new Map(k.domains.map((d, i) => [d, i]));
  for (const start of starts) {
    const ranked = orderCandidates(login, streamId, new Date(start.ms), {
      domains: k.domains,
      streamerDomain: k.streamerDomain,
      score: k.score,
      variantHits: NO_HITS,
    });
    for (const c of ranked) {
      const id = `${c.domain} ${c.ts}`;
      const p = c.p * start.weight;
      const band: CandidateBand = c.variant === "seconds" ? "seconds-field" : start.band;
      const had = merged.get(id);
      if (had) {
        had.p += p;
        // A ts that is a form of the minute given belongs to it, whichever second produced it first.
        if (had.band === "neighbour" && band === "given") had.band = band;
      } else merged.set(id, { ...c, p, band, rank: domainRank.get(c.domain)! * 1e7 + merged.size });
    }
  }
  return [...merged.values()]
    .sort((a, b) => BAND_ORDER[a.band] - BAND_ORDER[b.band] || b.p - a.p || a.rank - b.rank)
    .map(({ rank: _rank, ...c }) => c);
}
