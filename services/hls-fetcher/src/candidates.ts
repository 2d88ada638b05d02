import { timestampCandidates, vodPath, type TimestampVariant } from "@vod/twitch";

export interface Candidate {
  domain: string;
  variant: TimestampVariant;
  ts: number;
  path: string;
}

export interface OrderInputs {
  /** Configured domains; their order breaks ties. */
  domains: readonly string[];
  /** The domain that last served this streamer, if any. */
  streamerDomain: string | undefined;
  /** Decayed success score per domain. */
  score: (domain: string) => number;
  /** Hits per timestamp variant so far. */
  variantHits: Readonly<Record<TimestampVariant, number>>;
}

// Prior pseudo-counts: the plain start time is the rule, one second less the common quirk, the seconds field rare.
const VARIANT_PRIOR: Record<TimestampVariant, number> = { start: 18, minus1: 1.6, seconds: 0.4 };
// A streamer's VODs tend to stay on one domain.
const STREAMER_DOMAIN_WEIGHT = 0.95;

/**
 * Every (domain, timestamp) for a VOD, most likely first: the estimated probability of a domain
 * (the streamer's own domain first, then by recent successes) times that of a timestamp variant.
 * So the streamer's own domain gets its plain and −1 s forms before any other domain, while its rare
 * seconds-field form may come after the likeliest other domain's plain start time; an unknown
 * streamer's plain start time is tried on the likeliest domains before any variant.
 */
export function orderCandidates(login: string, streamId: string, startTime: Date, inputs: OrderInputs): Candidate[] {
  const { domains, streamerDomain, score, variantHits } = inputs;
  const known = streamerDomain !== undefined && domains.includes(streamerDomain);
  const weights = domains.map((d) => score(d) + 1);
  const total = weights.reduce((a, b) => a + b, 0) - (known ? weights[domains.indexOf(streamerDomain)]! : 0);
  const domainP = new Map(
    domains.map((d, i) =>
      known ? [d, d === streamerDomain ? STREAMER_DOMAIN_WEIGHT : ((1 - STREAMER_DOMAIN_WEIGHT) * weights[i]!) / total] : [d, weights[i]! / total],
    ),
  );
  const variantTotal = (Object.keys(VARIANT_PRIOR) as TimestampVariant[]).reduce((s, v) => s + VARIANT_PRIOR[v] + variantHits[v], 0);
  const variantP = (v: TimestampVariant) => (VARIANT_PRIOR[v] + variantHits[v]) / variantTotal;

  const stamps = timestampCandidates(startTime);
  const all = domains.flatMap((domain, di) =>
    stamps.map((t, vi) => ({ domain, variant: t.variant, ts: t.ts, path: vodPath(login, streamId, t.ts), p: domainP.get(domain)! * variantP(t.variant), rank: di * 3 + vi })),
  );
  all.sort((a, b) => b.p - a.p || a.rank - b.rank);
  return all.map(({ domain, variant, ts, path }) => ({ domain, variant, ts, path }));
}
