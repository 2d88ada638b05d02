import type { Clock } from "@vod/clock";
import type { VodFetchRequest, VodFetchResult } from "@vod/kafka";
import type { Logger } from "@vod/log";
import {
  isPlaylist,
  listingCovers,
  listingVisibility,
  matchListedVod,
  orderCandidates,
  type ArchiveListing,
  type Candidate,
} from "@vod/twitch";
import type { ArchiveLookup } from "./archives.ts";
import type { BlockDetector } from "./block.ts";
import { searchCdn, type SearchDeps } from "./cdn-search.ts";
import { DomainGet } from "./domain-get.ts";
import type { FetchCounters, FetchReport } from "./fetch-report.ts";
import type { CdnHttp } from "./http.ts";
import type { DomainKnowledge } from "./knowledge.ts";
import { fetchListed } from "./listed-fetch.ts";
import { Outcomes, type PlaylistCaps } from "./outcomes.ts";
import { DEFAULT_PRIORS, onCdnPrior, type ListingEvidence, type PriorOptions } from "./prior.ts";

export { candidateId, type DeepStart, type FetchCounters, type FetchReport } from "./fetch-report.ts";
export type { PlaylistCaps } from "./outcomes.ts";

export interface VodFetcherOptions {
  /** Configured domains; domains GQL reveals are added as they are learned. */
  domains: readonly string[];
  /** Root URL of a domain, `{domain}` replaced. */
  urlTemplate: string;
  retries: number;
  backoffMs: number;
  /** Asked before any CDN request; absent: search the CDN alone (visibility stays unset). */
  archives?: Pick<ArchiveLookup, "lookup">;
  /** The search stops once the VOD is on the CDN with less than this probability (0: never early). */
  stopProbability: number;
  priors?: PriorOptions;
  /** Hosts a seekPreviewsURL may teach; anything else is never requested. */
  discoverable: RegExp;
  /** Watches 403s on listed VODs; absent: none is taken for a block. */
  block?: BlockDetector;
  /**
   * A VOD whose fetches found it live this many times (this one included) is failed for good: a playlist
   * that never gets #EXT-X-ENDLIST would otherwise be released and fetched again every hour. Absent: 6.
   */
  liveResultLimit?: number;
  /** Caps on a playlist from the CDN (a VOD over one is failed for good); absent: the defaults. */
  playlist?: PlaylistCaps;
}

const UNKNOWN_VISIBILITY = { public: null, subOnly: null };

/**
 * Finds one VOD's playlist. GQL first: a VOD in the streamer's listing costs one GET on the domain
 * and path its seekPreviewsURL names. Otherwise the CDN is searched, likeliest candidate first, and
 * the search stops once the VOD is unlikely to be there at all (the rest is left to the deep search).
 * A hit without #EXT-X-ENDLIST is a live stream (`live`); a domain that times out, resets or
 * answers 5xx/429 makes the outcome `failed` (retried), and `not_found` means the candidates tried
 * all answered 403/404.
 *
 * The parts: `fetchListed` (a listed VOD), `searchCdn` (the search), `DomainGet` (one GET with the
 * domain's circuit and retries), `Outcomes` (the result, the playlist processed).
 */
export class VodFetcher {
  readonly #configured: Set<string>;
  readonly #outcomes: Outcomes;
  readonly #parts: SearchDeps;

  constructor(
    http: CdnHttp,
    private readonly knowledge: DomainKnowledge,
    private readonly clock: Clock,
    private readonly options: VodFetcherOptions,
    private readonly log: Logger,
    private readonly counters: FetchCounters = {},
  ) {
    this.#configured = new Set(options.domains);
    const baseUrl = (domain: string) => this.baseUrl(domain);
    const get = new DomainGet(http, knowledge, clock, { ...options, baseUrl }, counters);
    this.#outcomes = new Outcomes(
      knowledge,
      clock,
      { ...options, baseUrl, hosts: () => this.domains() },
      log,
      counters,
    );
    this.#parts = {
      candidates: (req) => this.candidates(req),
      get,
      outcomes: this.#outcomes,
      knowledge,
      clock,
      log,
      stopProbability: options.stopProbability,
      block: options.block,
    };
  }

  baseUrl(domain: string): string {
    return this.options.urlTemplate.replaceAll("{domain}", domain);
  }

  /** Configured domains, then the ones learned from GQL. */
  domains(): string[] {
    return [...this.options.domains, ...this.knowledge.discoveredDomains().filter((d) => !this.#configured.has(d))];
  }

  async fetch(req: VodFetchRequest, signal: AbortSignal): Promise<VodFetchResult> {
    return (await this.run(req, signal)).result;
  }

  async run(req: VodFetchRequest, signal: AbortSignal): Promise<FetchReport> {
    const began = performance.now();
    const lookup = this.options.archives;
    // Taken after the release: an older listing may still show the stream live that the sweeps saw end.
    const listing = lookup ? await lookup.lookup(req.streamerId, signal, Date.parse(req.releaseAt)) : null;
    const lookupMs = performance.now() - began;
    signal.throwIfAborted();
    const report = await this.#find(req, listing, signal);
    this.log.debug(
      {
        streamId: req.streamId,
        streamerId: req.streamerId,
        listing: listingState(listing, req),
        outcome: report.result.outcome,
        requests: report.result.requests,
        domain: report.result.found?.domain,
        lookupMs: Math.round(lookupMs),
        ms: Math.round(performance.now() - began),
      },
      "VOD fetched",
    );
    if (!lookup) return report;
    const visibility = listing ? listingVisibility(listing, req.streamId, req.startTime) : UNKNOWN_VISIBILITY;
    const videoId = listing ? matchListedVod(listing, req.streamId, req.startTime)?.vod.videoId : null;
    return {
      ...report,
      result: {
        ...report.result,
        visibility: { public: visibility.public, subOnly: visibility.subOnly },
        ...(videoId ? { videoId } : {}),
      },
    };
  }

  /** Candidates of a VOD as the search ranks them now (the deep search continues from these). */
  candidates(req: VodFetchRequest): Candidate[] {
    const now = this.clock.now();
    return orderCandidates(req.login, req.streamId, new Date(req.startTime), {
      domains: this.domains(),
      streamerDomain: this.knowledge.streamerDomain(req.streamerId),
      score: (d) => this.knowledge.score(d, now),
      variantHits: this.knowledge.variantHits(),
      restart: req.restart ?? false,
    });
  }

  /**
   * One request of a deep search: `candidate` (not tried yet). Found (or live) gives a result;
   * a miss gives null, and so does a domain that fails (the deep search tries it again later).
   */
  async probe(
    req: VodFetchRequest,
    candidate: Candidate,
    signal: AbortSignal,
    priority: number,
  ): Promise<{ result: VodFetchResult | null; missed: boolean }> {
    const got = await this.#parts.get.get(candidate.domain, candidate.path, signal, priority);
    if ("skipped" in got) return { result: null, missed: false };
    const { answer } = got;
    if (answer.kind === "ok" && isPlaylist(answer.body)) {
      const result = this.#outcomes.hit(
        req,
        candidate.domain,
        candidate.path,
        candidate.variant,
        candidate.ts,
        answer.body,
        got.requests,
        false,
      );
      return { result, missed: false };
    }
    return { result: null, missed: answer.kind === "missing" || answer.kind === "ok" };
  }

  async #find(req: VodFetchRequest, listing: ArchiveListing | null, signal: AbortSignal): Promise<FetchReport> {
    const now = this.clock.now();
    if (
      listing?.live &&
      listing.live.streamId === req.streamId &&
      Math.abs(listing.live.startMs - Date.parse(req.startTime)) < 2_000
    ) {
      return this.#outcomes.live(req, 0, "GQL says the stream is still live");
    }
    const match = listing ? matchListedVod(listing, req.streamId, req.startTime) : null;
    if (match) {
      if (this.#usable(match.vod.domain, match.vod.key, now)) {
        return fetchListed(
          this.#parts,
          req,
          match.vod.domain,
          `${match.vod.key}/chunked/index-dvr.m3u8`,
          match.variant,
          match.vod.ts,
          signal,
        );
      }
      // Listed, so on the CDN: only the host GQL named may not be asked. The search stops only when every candidate missed.
      return searchCdn(this.#parts, req, 1, false, signal);
    }
    const block = this.options.block;
    if (block?.active(now)) {
      return this.#outcomes.report(
        req,
        "failed",
        0,
        "the CDN answers 403 to VODs GQL lists (a block); searching waits until it lifts",
      );
    }
    let evidence: ListingEvidence = "unknown";
    if (listing && listingCovers(listing, req.startTime)) evidence = listing.videos.length === 0 ? "empty" : "unlisted";
    const history = this.knowledge.history(req.streamerId);
    const prior = onCdnPrior(evidence, history, now, this.options.priors ?? DEFAULT_PRIORS);
    const decidesStreamer = evidence === "empty" && (history?.found ?? 0) === 0 && (history?.notFound ?? 0) <= 1;
    return searchCdn(this.#parts, req, prior, decidesStreamer, signal);
  }

  /** Whether a domain GQL named may be requested; a new one that looks like a CDN host is learned. */
  #usable(domain: string, key: string, now: number): boolean {
    if (this.#configured.has(domain)) return true;
    if (!this.options.discoverable.test(domain)) {
      this.log.warn({ domain, key }, "GQL named a host that does not look like Twitch's CDN; not requested");
      return false;
    }
    if (this.knowledge.discover(domain, key, now)) {
      this.log.info({ domain, key }, "learned a CDN domain from GQL");
      this.counters.discovered?.(domain);
    }
    return true;
  }
}

/** What GQL's listing said of a VOD, for the log. */
function listingState(listing: ArchiveListing | null, req: VodFetchRequest): string {
  if (!listing) return "none";
  if (matchListedVod(listing, req.streamId, req.startTime)) return "listed";
  if (!listingCovers(listing, req.startTime)) return "short";
  return listing.videos.length === 0 ? "empty" : "unlisted";
}
