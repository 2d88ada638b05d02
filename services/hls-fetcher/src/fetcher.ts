import { gzipSync } from "node:zlib";
import type { Clock } from "@vod/clock";
import { sleep } from "@vod/backoff";
import type { VodFetchRequest, VodFetchResult } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { isPlaylist, processPlaylist } from "@vod/twitch";
import { orderCandidates } from "./candidates.ts";
import type { CdnAnswer, CdnHttp } from "./http.ts";
import type { DomainKnowledge } from "./knowledge.ts";
import type { VisibilityLookup } from "./visibility.ts";

export interface VodFetcherOptions {
  domains: readonly string[];
  /** Root URL of a domain, `{domain}` replaced. */
  urlTemplate: string;
  retries: number;
  backoffMs: number;
  /** Looked up after the CDN search; absent: visibility stays null. */
  visibility?: Pick<VisibilityLookup, "lookup">;
}

export interface FetchCounters {
  request?(domain: string, answer: CdnAnswer): void;
  outcome?(outcome: VodFetchResult["outcome"], requests: number): void;
}

/**
 * Finds one VOD's playlist: candidates most likely first, stop at the first 200 that is a
 * playlist. A domain that times out, resets or answers 5xx/429 (after retries) is dropped for
 * this VOD; if the VOD is not found elsewhere the outcome is `failed` (replayable), and only
 * when every candidate answered 403/404 is it `not_found`.
 */
export class VodFetcher {
  constructor(
    private readonly http: CdnHttp,
    private readonly knowledge: DomainKnowledge,
    private readonly clock: Clock,
    private readonly options: VodFetcherOptions,
    private readonly log: Logger,
    private readonly counters: FetchCounters = {},
  ) {}

  baseUrl(domain: string): string {
    return this.options.urlTemplate.replaceAll("{domain}", domain);
  }

  async fetch(req: VodFetchRequest, signal: AbortSignal): Promise<VodFetchResult> {
    const result = await this.search(req, signal);
    const lookup = this.options.visibility;
    if (!lookup) return result;
    return { ...result, visibility: await lookup.lookup(req, signal) };
  }

  private async search(req: VodFetchRequest, signal: AbortSignal): Promise<VodFetchResult> {
    const { knowledge, clock } = this;
    const candidates = orderCandidates(req.login, req.streamId, new Date(req.startTime), {
      domains: this.options.domains,
      streamerDomain: knowledge.streamerDomain(req.streamerId),
      score: (d) => knowledge.score(d, clock.now()),
      variantHits: knowledge.variantHits(),
    });
    let requests = 0;
    const unwell = new Map<string, string>();
    const base = {
      v: 1 as const,
      streamId: req.streamId,
      startTime: req.startTime,
      streamerId: req.streamerId,
      login: req.login,
      firstSeen: req.firstSeen,
      lastSeen: req.lastSeen,
      maxViewers: req.maxViewers,
    };

    for (const c of candidates) {
      if (unwell.has(c.domain)) continue;
      let state = knowledge.state(c.domain, clock.now());
      while (state === "probing") {
        await settledOrAborted(knowledge.probeSettled(c.domain), signal);
        signal.throwIfAborted();
        state = knowledge.state(c.domain, clock.now());
      }
      if (state === "open") {
        unwell.set(c.domain, "skipped, failing");
        continue;
      }
      const url = this.baseUrl(c.domain) + c.path;
      let answer: CdnAnswer;
      try {
        for (let attempt = 0; ; attempt++) {
          answer = await this.http.get(url, signal);
          requests++;
          this.counters.request?.(c.domain, answer);
          if (answer.kind === "ok" || answer.kind === "missing") break;
          if (attempt >= this.options.retries || state === "probe") break;
          await sleep(this.options.backoffMs * 2 ** attempt, signal);
        }
      } finally {
        // Waiting fetches must not wait on a probe that ended without a verdict (429, abort).
        if (state === "probe" && (signal.aborted || answer! === undefined || answer.kind === "rate_limited")) knowledge.endProbe(c.domain);
      }
      if (answer.kind === "ok" && isPlaylist(answer.body)) {
        const now = clock.now();
        knowledge.found(req.streamerId, c.domain, c.variant, now);
        const p = processPlaylist(answer.body, url);
        this.counters.outcome?.("found", requests);
        return {
          ...base,
          outcome: "found",
          fetchedAt: new Date(now).toISOString(),
          requests,
          found: {
            domain: c.domain,
            url,
            variant: c.variant,
            ts: c.ts,
            durationSeconds: p.durationSeconds,
            segments: p.segments,
            mutedSegments: p.mutedSegments,
            playlistGzipBase64: gzipSync(p.text).toString("base64"),
          },
          error: null,
        };
      }
      if (answer.kind === "ok" || answer.kind === "missing") {
        knowledge.answered(c.domain, clock.now());
        continue;
      }
      // 429 is about us, not the domain: it slows the limiter but does not mark the domain unwell.
      if (answer.kind === "transient") knowledge.failed(c.domain, clock.now());
      unwell.set(c.domain, answer.kind === "rate_limited" ? "HTTP 429" : answer.error);
    }

    const fetchedAt = new Date(clock.now()).toISOString();
    if (unwell.size === 0) {
      this.counters.outcome?.("not_found", requests);
      return { ...base, outcome: "not_found", fetchedAt, requests, found: null, error: null };
    }
    const error = [...unwell].map(([d, e]) => `${d}: ${e}`).join("; ");
    this.log.warn({ streamId: req.streamId, login: req.login, requests, error }, "VOD not found and some domains failed; outcome failed");
    this.counters.outcome?.("failed", requests);
    return { ...base, outcome: "failed", fetchedAt, requests, found: null, error };
  }
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
