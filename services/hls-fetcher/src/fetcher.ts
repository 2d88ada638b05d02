import { gzipSync } from "node:zlib";
import type { Clock } from "@vod/clock";
import { sleep } from "@vod/backoff";
import type { VodFetchRequest, VodFetchResult } from "@vod/kafka";
import type { Logger } from "@vod/log";
import {
  DEFAULT_PLAYLIST_LIMITS,
  hasEndList,
  isPlaylist,
  listingCovers,
  listingVisibility,
  matchListedVod,
  orderCandidates,
  PlaylistRefused,
  posterior,
  processPlaylist,
  type ArchiveListing,
  type Candidate,
  type PlaylistLimits,
  type ProcessedPlaylist,
  type TimestampVariant,
} from "@vod/twitch";
import type { ArchiveLookup } from "./archives.ts";
import type { BlockDetector } from "./block.ts";
import type { CdnAnswer, CdnHttp } from "./http.ts";
import type { DomainKnowledge } from "./knowledge.ts";
import { DEFAULT_PRIORS, onCdnPrior, type ListingEvidence, type PriorOptions } from "./prior.ts";

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

/** The caps of a playlist; the hosts its URIs may name are the fetcher's domains. */
export type PlaylistCaps = Omit<PlaylistLimits, "hosts">;

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

type GetOutcome = { answer: CdnAnswer; requests: number } | { skipped: string; requests: number };

const UNKNOWN_VISIBILITY = { public: null, subOnly: null };

/**
 * Finds one VOD's playlist. GQL first: a VOD in the streamer's listing costs one GET on the domain
 * and path its seekPreviewsURL names. Otherwise the CDN is searched, likeliest candidate first, and
 * the search stops once the VOD is unlikely to be there at all (the rest is left to the deep search).
 * A hit without #EXT-X-ENDLIST is a live stream (`live`); a domain that times out, resets or
 * answers 5xx/429 makes the outcome `failed` (retried), and `not_found` means the candidates tried
 * all answered 403/404.
 */
export class VodFetcher {
  readonly #configured: Set<string>;

  constructor(
    private readonly http: CdnHttp,
    private readonly knowledge: DomainKnowledge,
    private readonly clock: Clock,
    private readonly options: VodFetcherOptions,
    private readonly log: Logger,
    private readonly counters: FetchCounters = {},
  ) {
    this.#configured = new Set(options.domains);
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
    return {
      ...report,
      result: { ...report.result, visibility: { public: visibility.public, subOnly: visibility.subOnly } },
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
    const got = await this.#get(candidate.domain, candidate.path, signal, priority);
    if ("skipped" in got) return { result: null, missed: false };
    const { answer } = got;
    if (answer.kind === "ok" && isPlaylist(answer.body)) {
      const result = this.#hit(
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
      return this.#live(req, 0, "GQL says the stream is still live");
    }
    const match = listing ? matchListedVod(listing, req.streamId, req.startTime) : null;
    if (match) {
      if (this.#usable(match.vod.domain, match.vod.key, now)) {
        return this.#fetchListed(
          req,
          match.vod.domain,
          `${match.vod.key}/chunked/index-dvr.m3u8`,
          match.variant,
          match.vod.ts,
          signal,
        );
      }
      // Listed, so on the CDN: only the host GQL named may not be asked. The search stops only when every candidate missed.
      return this.#search(req, 1, false, signal);
    }
    const block = this.options.block;
    if (block?.active(now)) {
      return this.#report(
        req,
        "failed",
        0,
        null,
        "the CDN answers 403 to VODs GQL lists (a block); searching waits until it lifts",
      );
    }
    let evidence: ListingEvidence = "unknown";
    if (listing && listingCovers(listing, req.startTime)) evidence = listing.videos.length === 0 ? "empty" : "unlisted";
    const history = this.knowledge.history(req.streamerId);
    const prior = onCdnPrior(evidence, history, now, this.options.priors ?? DEFAULT_PRIORS);
    const decidesStreamer = evidence === "empty" && (history?.found ?? 0) === 0 && (history?.notFound ?? 0) <= 1;
    return this.#search(req, prior, decidesStreamer, signal);
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

  async #fetchListed(
    req: VodFetchRequest,
    domain: string,
    path: string,
    variant: TimestampVariant,
    ts: number,
    signal: AbortSignal,
  ): Promise<FetchReport> {
    const got = await this.#get(domain, path, signal);
    if ("skipped" in got) return this.#report(req, "failed", got.requests, null, `${domain}: ${got.skipped}`);
    const { answer, requests } = got;
    const now = this.clock.now();
    if (answer.kind === "ok" && isPlaylist(answer.body)) {
      this.options.block?.listedAnswered(now);
      return { result: this.#hit(req, domain, path, variant, ts, answer.body, requests, true) };
    }
    if (answer.kind === "missing") {
      // GQL lists it, so a 403 is the CDN refusing us (CloudFront's WAF answers 403) or a deletion this minute.
      this.options.block?.listed403(now);
      return this.#report(req, "failed", requests, null, `${domain}: HTTP ${answer.status} for a VOD GQL lists`);
    }
    const why =
      answer.kind === "ok"
        ? "HTTP 200 that is not a playlist"
        : answer.kind === "rate_limited"
          ? "HTTP 429"
          : answer.error;
    return this.#report(req, "failed", requests, null, `${domain}: ${why}`);
  }

  async #search(
    req: VodFetchRequest,
    prior: number,
    decidesStreamer: boolean,
    signal: AbortSignal,
  ): Promise<FetchReport> {
    const { knowledge, clock } = this;
    const stop = this.options.stopProbability;
    let requests = 0;
    let mass = 0;
    let stoppedEarly = false;
    const tried: string[] = [];
    const unwell = new Map<string, string>();

    for (const c of this.candidates(req)) {
      if (unwell.has(c.domain)) {
        // Not asked now, and weighed as if it missed: the search stops where it would have, and the
        // VOD's outcome is failed, so the retry asks again once the domain is well. Going on through
        // every other domain instead costs a dozen requests that rarely find it.
        mass += c.p;
        continue;
      }
      if (stop > 0 && posterior(prior, mass) < stop) {
        stoppedEarly = true;
        break;
      }
      const got = await this.#get(c.domain, c.path, signal);
      requests += got.requests;
      if ("skipped" in got) {
        unwell.set(c.domain, got.skipped);
        continue;
      }
      const { answer } = got;
      if (answer.kind === "ok" && isPlaylist(answer.body)) {
        return { result: this.#hit(req, c.domain, c.path, c.variant, c.ts, answer.body, requests, false) };
      }
      if (answer.kind === "ok" || answer.kind === "missing") {
        mass += c.p;
        tried.push(candidateId(c));
        continue;
      }
      unwell.set(c.domain, answer.kind === "rate_limited" ? "HTTP 429" : answer.error);
    }

    if (unwell.size > 0) {
      const error = [...unwell].map(([d, e]) => `${d}: ${e}`).join("; ");
      this.log.warn(
        { streamId: req.streamId, login: req.login, requests, error },
        "VOD not found and some domains failed; outcome failed",
      );
      return this.#report(req, "failed", requests, null, error);
    }
    if (this.options.block?.active(clock.now())) {
      // Every 403 during a block may be the block's: nothing here proves the VOD missing.
      return this.#report(req, "failed", requests, null, "the CDN answers 403 to VODs GQL lists (a block)");
    }
    knowledge.notFound(req.streamerId, requests > 0, clock.now());
    const report = this.#report(req, "not_found", requests, null, null);
    if (!stoppedEarly) return report;
    return { result: { ...report.result, partial: true }, deep: { prior, tried, decidesStreamer } };
  }

  /**
   * One GET with the domain's circuit and retries: a failing domain is skipped (no request), a
   * probe in flight is waited for, timeouts and 5xx are retried with backoff.
   */
  async #get(domain: string, path: string, signal: AbortSignal, priority?: number): Promise<GetOutcome> {
    const { knowledge, clock } = this;
    let state = knowledge.state(domain, clock.now());
    while (state === "probing") {
      await settledOrAborted(knowledge.probeSettled(domain), signal);
      signal.throwIfAborted();
      state = knowledge.state(domain, clock.now());
    }
    if (state === "open") return { skipped: "skipped, failing", requests: 0 };
    const url = this.baseUrl(domain) + path;
    let answer: CdnAnswer | undefined;
    let requests = 0;
    try {
      for (let attempt = 0; ; attempt++) {
        answer = await this.http.get(url, signal, priority);
        requests++;
        this.counters.request?.(domain, answer);
        if (answer.kind === "ok" || answer.kind === "missing") break;
        if (attempt >= this.options.retries || state === "probe") break;
        await sleep(this.options.backoffMs * 2 ** attempt, signal);
      }
    } finally {
      // Waiting fetches must not wait on a probe that ended without a verdict (429, abort).
      if (state === "probe" && (signal.aborted || answer === undefined || answer.kind === "rate_limited"))
        knowledge.endProbe(domain);
    }
    const now = clock.now();
    if (answer.kind === "ok" || answer.kind === "missing") knowledge.answered(domain, now);
    // 429 is about us, not the domain: it slows the limiter but does not mark the domain unwell.
    else if (answer.kind === "transient") knowledge.failed(domain, now);
    return { answer, requests };
  }

  #hit(
    req: VodFetchRequest,
    domain: string,
    path: string,
    variant: TimestampVariant,
    ts: number,
    body: string,
    requests: number,
    listed: boolean,
  ): VodFetchResult {
    const now = this.clock.now();
    this.knowledge.found(req.streamerId, domain, variant, now, listed);
    if (!hasEndList(body)) {
      // Still live (or a live stream's playlist the delay released too early): nothing is stored.
      return this.#live(req, requests, `${domain}: playlist has no #EXT-X-ENDLIST; the stream is still live`).result;
    }
    const url = this.baseUrl(domain) + path;
    const p = this.#process(req, domain, body, url);
    if (p instanceof PlaylistRefused) {
      const failed = this.#report(req, "failed", requests, null, `${domain}: ${p.message}; not retried`);
      return { ...failed.result, terminal: true };
    }
    this.counters.outcome?.("found", requests);
    return {
      ...this.#base(req),
      outcome: "found",
      fetchedAt: new Date(now).toISOString(),
      requests,
      found: {
        domain,
        url,
        variant,
        ts,
        durationSeconds: p.durationSeconds,
        segments: p.segments,
        mutedSegments: p.mutedSegments,
        playlistGzipBase64: gzipSync(p.text).toString("base64"),
        ...(p.skippedLines > 0 ? { skippedLines: p.skippedLines } : {}),
      },
      error: null,
    };
  }

  /**
   * The playlist made playable, its URIs kept to the fetcher's domains and the playlist's own host;
   * or why it is refused (over a cap: the same bytes would come back on every retry).
   */
  #process(req: VodFetchRequest, domain: string, body: string, url: string): ProcessedPlaylist | PlaylistRefused {
    const limits = { ...DEFAULT_PLAYLIST_LIMITS, ...this.options.playlist, hosts: new Set(this.domains()) };
    try {
      const p = processPlaylist(body, url, limits);
      if (p.skippedLines > 0)
        this.log.warn(
          { streamId: req.streamId, login: req.login, domain, skipped: p.skippedLines, first: p.firstSkipped },
          "playlist lines left out: URIs of other hosts or schemes, unresolvable or junk",
        );
      if (p.segments === 0 && p.skippedLines > 0) return new PlaylistRefused("every segment URI was left out");
      return p;
    } catch (err) {
      if (!(err instanceof PlaylistRefused)) throw err;
      this.log.warn({ streamId: req.streamId, login: req.login, domain, reason: err.message }, "playlist refused");
      return err;
    }
  }

  /** `live`, or failed for good once the VOD has been found live LIVE_RESULT_LIMIT times. */
  #live(req: VodFetchRequest, requests: number, why: string): FetchReport {
    const times = (req.liveResults ?? 0) + 1;
    const limit = this.options.liveResultLimit ?? 6;
    if (times < limit) return this.#report(req, "live", requests, null, why);
    this.log.warn({ streamId: req.streamId, login: req.login, times }, "VOD still live at its fetch limit; given up");
    const failed = this.#report(req, "failed", requests, null, `${why}; live at ${times} fetches, given up`);
    return { result: { ...failed.result, terminal: true } };
  }

  #report(
    req: VodFetchRequest,
    outcome: VodFetchResult["outcome"],
    requests: number,
    found: null,
    error: string | null,
  ): FetchReport {
    this.counters.outcome?.(outcome, requests);
    return {
      result: {
        ...this.#base(req),
        outcome,
        fetchedAt: new Date(this.clock.now()).toISOString(),
        requests,
        found,
        error,
      },
    };
  }

  #base(req: VodFetchRequest) {
    return {
      v: 1 as const,
      streamId: req.streamId,
      startTime: req.startTime,
      streamerId: req.streamerId,
      login: req.login,
      firstSeen: req.firstSeen,
      lastSeen: req.lastSeen,
      maxViewers: req.maxViewers,
    };
  }
}

/** What GQL's listing said of a VOD, for the log. */
function listingState(listing: ArchiveListing | null, req: VodFetchRequest): string {
  if (!listing) return "none";
  if (matchListedVod(listing, req.streamId, req.startTime)) return "listed";
  if (!listingCovers(listing, req.startTime)) return "short";
  return listing.videos.length === 0 ? "empty" : "unlisted";
}

/** Resolves when `work` settles or `signal` aborts, whichever comes first, and leaves no listener behind. */
function settledOrAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    work.then(done, done);
  });
}
