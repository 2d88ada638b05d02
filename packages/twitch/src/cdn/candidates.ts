import { timestampCandidates, vodPath, type TimestampVariant } from "../vod-path.ts";

export interface Candidate {
  domain: string;
  variant: TimestampVariant;
  ts: number;
  path: string;
  /** Probability that the VOD is at this candidate, given that it is on the CDN; all sum to 1. */
  p: number;
}

export interface OrderInputs {
  /** Domains to try (configured, then discovered); their order breaks ties. */
  domains: readonly string[];
  /** The domain that last served this streamer, if any. */
  streamerDomain: string | undefined;
  /** Decayed success score per domain. */
  score: (domain: string) => number;
  /** Hits per timestamp variant so far. */
  variantHits: Readonly<Record<TimestampVariant, number>>;
  /** The stream id repeats an earlier VOD's (a same-id restart): the seconds field is the likely form. */
  restart?: boolean;
}

// Prior pseudo-counts: the plain start time is the rule, one second less the common quirk.
const VARIANT_PRIOR: Record<"start" | "minus1", number> = { start: 18, minus1: 1.6 };
/** The seconds field belongs to same-id restarts; the delay flags those it saw, so unflagged ones are rare. */
const SECONDS_UNFLAGGED = 0.002;
const SECONDS_FLAGGED = 0.9;
// A streamer's VODs tend to stay on one domain.
const STREAMER_DOMAIN_WEIGHT = 0.95;

/**
 * Every (domain, timestamp) for a VOD with its probability, most likely first: the estimated
 * probability of a domain (the streamer's own domain first, then by recent successes) times that of
 * a timestamp form. An unknown streamer's plain start time is tried on the likeliest domains before
 * any other form; the seconds field comes early only for a flagged restart.
 */
export function orderCandidates(login: string, streamId: string, startTime: Date, inputs: OrderInputs): Candidate[] {
  const { domains, streamerDomain, score, variantHits, restart = false } = inputs;
  const known = streamerDomain !== undefined && domains.includes(streamerDomain);
  const weights = domains.map((d) => score(d) + 1);
  const total = weights.reduce((a, b) => a + b, 0) - (known ? weights[domains.indexOf(streamerDomain)]! : 0);
  const domainP = new Map(
    domains.map((d, i) => {
      if (!known) return [d, weights[i]! / total];
      if (domains.length === 1) return [d, 1];
      return [d, d === streamerDomain ? STREAMER_DOMAIN_WEIGHT : ((1 - STREAMER_DOMAIN_WEIGHT) * weights[i]!) / total];
    }),
  );
  const seconds = restart ? SECONDS_FLAGGED : SECONDS_UNFLAGGED;
  const start = VARIANT_PRIOR.start + variantHits.start;
  const minus1 = VARIANT_PRIOR.minus1 + variantHits.minus1;
  const variantP: Record<TimestampVariant, number> = {
    start: ((1 - seconds) * start) / (start + minus1),
    minus1: ((1 - seconds) * minus1) / (start + minus1),
    seconds,
  };

  const stamps = timestampCandidates(startTime);
  const all = domains.flatMap((domain, di) =>
    stamps.map((t, vi) => ({
      domain,
      variant: t.variant,
      ts: t.ts,
      path: vodPath(login, streamId, t.ts),
      p: domainP.get(domain)! * variantP[t.variant],
      rank: di * 3 + vi,
    })),
  );
  all.sort((a, b) => b.p - a.p || a.rank - b.rank);
  return all.map(({ domain, variant, ts, path, p }) => ({ domain, variant, ts, path, p }));
}

/**
 * Probability that the VOD is on the CDN after candidates holding `triedMass` of the probability
 * all missed, from `prior` before any: Bayes with P(miss | on CDN) = 1 − triedMass.
 */
export function posterior(prior: number, triedMass: number): number {
  const miss = Math.max(0, 1 - triedMass);
  const denominator = 1 - prior * (1 - miss);
  return denominator <= 0 ? 0 : (prior * miss) / denominator;
}
