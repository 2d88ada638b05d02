import { LIVE_VOD_DOMAINS } from "@vod/twitch";

type Tuple<N extends number, T extends string[] = []> = T["length"] extends N ? T : Tuple<N, [...T, string]>;

/**
 * The first `n` live CDN domains, typed as that many so they destructure without casts. A few keep a
 * cold search short: every candidate form is tried on each domain.
 */
export function cdnDomains<N extends 1 | 2 | 3 | 4 | 5 | 6>(n: N): Tuple<N> {
  if (LIVE_VOD_DOMAINS.length < n) throw new Error(`only ${LIVE_VOD_DOMAINS.length} live CDN domains`);
  return LIVE_VOD_DOMAINS.slice(0, n) as Tuple<N>;
}
