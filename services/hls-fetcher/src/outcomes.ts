import { gzipSync } from "node:zlib";
import type { Clock } from "@vod/clock";
import type { VodFetchRequest, VodFetchResult } from "@vod/kafka";
import type { Logger } from "@vod/log";
import {
  DEFAULT_PLAYLIST_LIMITS,
  hasEndList,
  PlaylistRefused,
  processPlaylist,
  type PlaylistLimits,
  type ProcessedPlaylist,
  type TimestampVariant,
} from "@vod/twitch";
import type { FetchCounters, FetchReport } from "./fetch-report.ts";
import type { DomainKnowledge } from "./knowledge.ts";

/** The caps of a playlist; the hosts its URIs may name are the fetcher's domains. */
export type PlaylistCaps = Omit<PlaylistLimits, "hosts">;

export interface OutcomeOptions {
  /**
   * A VOD whose fetches found it live this many times (this one included) is failed for good: a playlist
   * that never gets #EXT-X-ENDLIST would otherwise be released and fetched again every hour. Absent: 6.
   */
  liveResultLimit?: number;
  /** Caps on a playlist from the CDN (a VOD over one is failed for good); absent: the defaults. */
  playlist?: PlaylistCaps;
  /** Root URL of a domain. */
  baseUrl(domain: string): string;
  /** The hosts a playlist's URIs may name: the fetcher's domains. */
  hosts(): string[];
}

/** A VOD's result from what the CDN answered: found with its playlist processed, live, failed or not found. */
export class Outcomes {
  constructor(
    private readonly knowledge: DomainKnowledge,
    private readonly clock: Clock,
    private readonly options: OutcomeOptions,
    private readonly log: Logger,
    private readonly counters: FetchCounters,
  ) {}

  /** A playlist came from `domain`: `found`, `live` without #EXT-X-ENDLIST, or failed for good when it is refused. */
  hit(
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
      return this.live(req, requests, `${domain}: playlist has no #EXT-X-ENDLIST; the stream is still live`).result;
    }
    const url = this.options.baseUrl(domain) + path;
    const p = this.#process(req, domain, body, url);
    if (p instanceof PlaylistRefused) {
      const failed = this.report(req, "failed", requests, `${domain}: ${p.message}; not retried`);
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
    const limits = { ...DEFAULT_PLAYLIST_LIMITS, ...this.options.playlist, hosts: new Set(this.options.hosts()) };
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
  live(req: VodFetchRequest, requests: number, why: string): FetchReport {
    const times = (req.liveResults ?? 0) + 1;
    const limit = this.options.liveResultLimit ?? 6;
    if (times < limit) return this.report(req, "live", requests, why);
    this.log.warn({ streamId: req.streamId, login: req.login, times }, "VOD still live at its fetch limit; given up");
    const failed = this.report(req, "failed", requests, `${why}; live at ${times} fetches, given up`);
    return { result: { ...failed.result, terminal: true } };
  }

  /** A result without a playlist (`found` is null), counted. */
  report(
    req: VodFetchRequest,
    outcome: VodFetchResult["outcome"],
    requests: number,
    error: string | null,
  ): FetchReport {
    this.counters.outcome?.(outcome, requests);
    return {
      result: {
        ...this.#base(req),
        outcome,
        fetchedAt: new Date(this.clock.now()).toISOString(),
        requests,
        found: null,
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
