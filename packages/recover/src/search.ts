import { isPlaylist } from "@vod/twitch";
import type { CdnClient } from "./http.ts";
import type { CandidateBand, SearchCandidate } from "./order.ts";

export interface CdnHit {
  candidate: SearchCandidate;
  url: string;
  body: string;
}

/** What a search tried, for the answer and for "not found". */
export interface SearchTried {
  requests: number;
  /** Candidates that answered 403/404, per band. */
  missed: Record<CandidateBand, number>;
  domains: string[];
  /** Domains given up on after failing in a row (timeouts, 5xx, 429): the VOD may be there. */
  failing: Record<string, string>;
}

export interface SearchOutcome {
  hit: CdnHit | null;
  tried: SearchTried;
  /** Candidates that answered a miss: a later search of the same VOD need not ask them again. */
  ruledOut: ReadonlySet<SearchCandidate>;
}

/** Failures in a row after which a domain is left out of the rest of the search. */
const DOMAIN_FAILURES = 3;

/**
 * Tries `candidates` in order through the client's budget. The first playlist found wins and
 * aborts the requests still in flight; candidates not started are never sent. Requests in flight
 * grow as answers come back (one more per answer, up to `concurrency`): the likeliest candidate
 * goes alone, so an exact time on a known domain costs one request, while a long search soon runs
 * `concurrency` at once. A 200 that is not a playlist (a bucket listing) counts as a miss.
 */
export async function searchCdn(
  candidates: readonly SearchCandidate[],
  client: CdnClient,
  opts: { baseUrl: (domain: string) => string; concurrency: number; signal?: AbortSignal },
): Promise<SearchOutcome> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const before = client.requests;
  const missed: Record<CandidateBand, number> = { given: 0, "seconds-field": 0, neighbour: 0 };
  const failures = new Map<string, number>();
  const failing: Record<string, string> = {};
  const ruledOut = new Set<SearchCandidate>();
  let hit: CdnHit | null = null;
  let next = 0;
  let answered = 0;
  let inFlight = 0;

  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (
        !signal.aborted &&
        inFlight < Math.min(Math.max(1, opts.concurrency), 1 + answered) &&
        next < candidates.length
      ) {
        const c = candidates[next++]!;
        if (c.domain in failing) continue;
        inFlight++;
        void probe(c).then(
          () => {
            inFlight--;
            answered++;
            pump();
          },
          (err: unknown) => {
            stop.abort();
            reject(err);
          },
        );
      }
      if (inFlight === 0) resolve();
    };
    pump();
  });
  opts.signal?.throwIfAborted();
  return {
    hit,
    tried: {
      requests: client.requests - before,
      missed,
      domains: [...new Set(candidates.map((c) => c.domain))],
      failing,
    },
    ruledOut,
  };

  async function probe(c: SearchCandidate): Promise<void> {
    const url = opts.baseUrl(c.domain) + c.path;
    const answer = await client.get(url, signal);
    if (answer === null) return;
    if (answer.kind === "ok" && isPlaylist(answer.body)) {
      if (!hit) {
        hit = { candidate: c, url, body: answer.body };
        stop.abort();
      }
      return;
    }
    if (answer.kind === "transient") {
      const n = (failures.get(c.domain) ?? 0) + 1;
      failures.set(c.domain, n);
      if (n >= DOMAIN_FAILURES) failing[c.domain] = answer.error;
      return;
    }
    failures.set(c.domain, 0);
    missed[c.band]++;
    ruledOut.add(c);
  }
}
