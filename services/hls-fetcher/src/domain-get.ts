import type { Clock } from "@vod/clock";
import { sleep } from "@vod/backoff";
import type { FetchCounters } from "./fetch-report.ts";
import type { CdnAnswer, CdnHttp } from "./http.ts";
import type { DomainKnowledge } from "./knowledge.ts";

export type GetOutcome = { answer: CdnAnswer; requests: number } | { skipped: string; requests: number };

export interface DomainGetOptions {
  retries: number;
  backoffMs: number;
  /** Root URL of a domain. */
  baseUrl(domain: string): string;
}

/** CDN GETs as the domains' health allows them. */
export class DomainGet {
  constructor(
    private readonly http: CdnHttp,
    private readonly knowledge: DomainKnowledge,
    private readonly clock: Clock,
    private readonly options: DomainGetOptions,
    private readonly counters: FetchCounters,
  ) {}

  /**
   * One GET with the domain's circuit and retries: a failing domain is skipped (no request), a
   * probe in flight is waited for, timeouts and 5xx are retried with backoff.
   */
  async get(domain: string, path: string, signal: AbortSignal, priority?: number): Promise<GetOutcome> {
    const { knowledge, clock } = this;
    let state = knowledge.state(domain, clock.now());
    while (state === "probing") {
      await settledOrAborted(knowledge.probeSettled(domain), signal);
      signal.throwIfAborted();
      state = knowledge.state(domain, clock.now());
    }
    if (state === "open") return { skipped: "skipped, failing", requests: 0 };
    const url = this.options.baseUrl(domain) + path;
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
