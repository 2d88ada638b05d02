import Bottleneck from "bottleneck";

export interface RateLimiterOptions {
  perSecond: number;
  /** The slowest a series of 429s can make it. */
  floorPerSecond: number;
  /** Added to the spacing so network jitter cannot squeeze one request more into a second at the server. */
  marginMs?: number;
}

/**
 * The one gate every CDN request passes: requests start at least `minTime` apart (no bursts),
 * any number may be in flight. A 429 doubles the spacing at once; each success shrinks it by
 * 2% back towards the configured rate, so recovery takes dozens of requests.
 */
export class RateLimiter {
  readonly #bottleneck: Bottleneck;
  readonly #baseMs: number;
  readonly #maxMs: number;
  #minTimeMs: number;
  #lastStart = -Infinity;
  #gate: Promise<void> = Promise.resolve();

  constructor({ perSecond, floorPerSecond, marginMs = 10 }: RateLimiterOptions) {
    this.#baseMs = Math.ceil(1000 / perSecond) + marginMs;
    this.#maxMs = Math.max(this.#baseMs, Math.ceil(1000 / floorPerSecond));
    this.#minTimeMs = this.#baseMs;
    this.#bottleneck = new Bottleneck({ minTime: this.#minTimeMs, maxConcurrent: null });
  }

  get minTimeMs(): number {
    return this.#minTimeMs;
  }

  /** Runs `work` in turn; `priority` (0-9, default 5) orders jobs Bottleneck still holds in its queue. */
  schedule<T>(work: () => Promise<T>, priority?: number): Promise<T> {
    return this.#bottleneck.schedule(priority === undefined ? {} : { priority }, async () => {
      await this.#spaced();
      return work();
    });
  }

  /**
   * Requests waiting for their turn. With no concurrency cap Bottleneck moves every job at once from
   * its queue to RUNNING (waiting for its slot), so both count: none means the budget is idle.
   */
  queued(): number {
    const c = this.#bottleneck.counts();
    return c.QUEUED + c.RUNNING;
  }

  /**
   * Bottleneck spaces the times it plans, but a timer that fires late lets the next job start less
   * than minTime after this one; measured starts are what a server's rate rule counts.
   */
  #spaced(): Promise<void> {
    this.#gate = this.#gate.then(async () => {
      const wait = this.#lastStart + this.#minTimeMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.ceil(wait)));
      this.#lastStart = performance.now();
    });
    return this.#gate;
  }

  /** A 429: slow down now, at least to the server's Retry-After if it gave one. */
  rateLimited(retryAfterMs?: number): void {
    this.#set(Math.max(this.#minTimeMs * 2, retryAfterMs ?? 0));
  }

  succeeded(): void {
    if (this.#minTimeMs > this.#baseMs) this.#set(this.#minTimeMs * 0.98);
  }

  #set(ms: number): void {
    const next = Math.round(Math.min(this.#maxMs, Math.max(this.#baseMs, ms)));
    if (next === this.#minTimeMs) return;
    this.#minTimeMs = next;
    this.#bottleneck.updateSettings({ minTime: next });
  }

  /** Drops queued requests (they reject) so shutdown does not wait for them. */
  async stop(): Promise<void> {
    await this.#bottleneck.stop({ dropWaitingJobs: true });
  }
}
