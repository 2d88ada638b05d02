import type { FindJobs } from "./find-jobs.ts";

/** A search refused for now: how long to wait, and why, in words for the page. */
export interface Refusal {
  retryAfterSeconds: number;
  message: string;
}

const HOUR = 3_600_000;
/** What a refusal for a search still running says to wait: about one progress report of a search. */
const RUNNING_RETRY_S = 15;

/**
 * The page's searches spend CDN requests of the fetchers' budget: per client (address) one running
 * search and `perHour` started in any hour; `maxRunning` running in all. In memory, per process.
 */
export class FindLimits {
  readonly #started = new Map<string, number[]>();

  constructor(
    private readonly jobs: FindJobs,
    private readonly o: { perHour: number; maxRunning: number },
  ) {}

  /** Why `client` may not start a search now; null when it may. */
  check(client: string, nowMs: number): Refusal | null {
    const own = this.jobs.runningOf(client);
    if (own) {
      return {
        retryAfterSeconds: RUNNING_RETRY_S,
        message: `your search started ${Math.round(own.seconds())} s ago is still running (${own.requests} CDN requests so far); one search at a time: wait for it (about ${RUNNING_RETRY_S} s, then ask again) or cancel it`,
      };
    }
    const recent = this.#recent(client, nowMs);
    if (recent.length >= this.o.perHour) {
      const wait = Math.max(1, Math.ceil((recent[0]! + HOUR - nowMs) / 1000));
      return {
        retryAfterSeconds: wait,
        message: `${this.o.perHour} searches in the last hour, the most one client may start: the next in ${describeWait(wait)}`,
      };
    }
    const running = this.jobs.running();
    if (running.length >= this.o.maxRunning) {
      return {
        retryAfterSeconds: RUNNING_RETRY_S,
        message: `${running.length} searches are running, the most the CDN budget serves at once: ask again in about ${RUNNING_RETRY_S} s`,
      };
    }
    return null;
  }

  /** Counts a search started now against `client`'s hour. */
  record(client: string, nowMs: number): void {
    this.#started.set(client, [...this.#recent(client, nowMs), nowMs]);
  }

  #recent(client: string, nowMs: number): number[] {
    const kept = (this.#started.get(client) ?? []).filter((t) => t > nowMs - HOUR);
    if (kept.length === 0) this.#started.delete(client);
    else this.#started.set(client, kept);
    return kept;
  }
}

export function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  return `${Math.ceil(seconds / 60)} min`;
}
