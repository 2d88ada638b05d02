import type { StreamerHistory } from "./knowledge.ts";

/** What GQL said about a VOD before the CDN search. */
export type ListingEvidence =
  /** No listing: GQL failed, timed out, or is switched off. */
  | "unknown"
  /** The listing covers the VOD's start and does not hold it, while it holds other VODs of the streamer. */
  | "unlisted"
  /** The listing covers the VOD's start and holds no VOD at all: the streamer hides its archives or saves none. */
  | "empty";

export interface PriorOptions {
  /** Share of VODs on the CDN when nothing is known (streamers with archiving off make up most of the rest). */
  base: number;
  /** An unlisted VOD of a streamer whose other VODs are listed: deleted or never saved (deleted ones leave the CDN within minutes). */
  unlisted: number;
  /** An empty listing of a streamer never searched: the share of hidden archives among empty listings. */
  emptyNew: number;
  /**
   * Share of a hidden streamer's VODs that are not on the CDN anyway (not saved, deleted): each VOD of
   * an empty-listing streamer not found makes "archiving off" likelier than "hidden" by 1 / this.
   */
  hiddenMissRate: number;
  /** Clock time after which a streamer judged to save nothing is searched again as if new. */
  recheckAfterMs: number;
}

export const DEFAULT_PRIORS: PriorOptions = {
  // FACTS/issue: about 24% of VODs were never on the CDN in the original system (7,502 found, 2,421 not).
  base: 0.76,
  // In FACTS.md deleted VODs leave the CDN within minutes; unsaved ones were never there.
  unlisted: 0.004,
  // 2% of streamers hide their VODs against about 20% who save none: 2 / 22.
  emptyNew: 0.09,
  // Unsaved (about 3.5% in the realistic world) and deleted-before-fetch VODs of streamers who hide theirs.
  hiddenMissRate: 0.07,
  recheckAfterMs: 7 * 86_400_000,
};

/** Share of a saving streamer's VODs on the CDN when fetched: not the unsaved or deleted ones. */
const ON_CDN_IF_SAVED = 0.93;

/**
 * Probability that a VOD is on the CDN at all, before any CDN request, from GQL's listing and the
 * streamer's history. A listed VOD never gets here: it costs one request on the path GQL names.
 */
export function onCdnPrior(
  evidence: ListingEvidence,
  history: Readonly<StreamerHistory> | undefined,
  now: number,
  o: PriorOptions = DEFAULT_PRIORS,
): number {
  const found = history?.found ?? 0;
  const notFound = history?.notFound ?? 0;
  const hidden = history?.unlistedFound ?? 0;
  // Found before without GQL listing it: the streamer hides its VODs, and they are on the CDN.
  if (hidden > 0 && evidence !== "unlisted") return Math.min(0.97, (hidden + 1) / (hidden + notFound + 1.2));
  switch (evidence) {
    case "unlisted":
      return o.unlisted;
    case "empty": {
      if (found > 0) return 0.5; // was found while listed: the streamer has just hidden its archives, or deleted them
      const stale =
        history?.checkedAt === null || history?.checkedAt === undefined || now - history.checkedAt >= o.recheckAfterMs;
      if (notFound === 0 || stale) return o.emptyNew;
      // Bayes over "hides its VODs" against "saves none", one not-found VOD at a time.
      const hiddenOdds = (o.emptyNew / (1 - o.emptyNew)) * o.hiddenMissRate ** notFound;
      return hiddenOdds / (1 + hiddenOdds);
    }
    case "unknown": {
      // A streamer that saves its VODs has about ON_CDN_IF_SAVED of them on the CDN; one found proves it saves.
      if (found > 0) return (found + 2 * ON_CDN_IF_SAVED) / (found + notFound + 2);
      // Nothing found yet: Bayes over "saves its VODs" against "saves none", one not-found VOD at a time.
      const stale =
        history?.checkedAt !== null && history?.checkedAt !== undefined && now - history.checkedAt >= o.recheckAfterMs;
      const saves = o.base / ON_CDN_IF_SAVED;
      const odds = (saves / (1 - saves)) * o.hiddenMissRate ** (stale ? 0 : notFound);
      return (ON_CDN_IF_SAVED * odds) / (1 + odds);
    }
  }
}
