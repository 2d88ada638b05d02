import Bottleneck from "bottleneck";
import { Agent, errors, request } from "undici";

export interface CdnClientOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** At most this many requests in any `windowMs` (sliding), for the whole run. */
  budget: number;
  windowMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** The whole request, body included. */
  requestTimeoutMs: number;
  /** Told when the budget is spent and requests wait, with how long until the next may go. */
  onBudgetSpent?: (waitMs: number) => void;
  /**
   * Waits for a turn of a budget shared with others (the fetchers' in Redis) before each request
   * goes out; rejects when `signal` fires.
   */
  turn?: (signal: AbortSignal) => Promise<void>;
  /** Told after each request went out, with the run's count so far. */
  onSent?: (requests: number) => void;
}

export type CdnAnswer =
  | { kind: "ok"; status: 200; body: string }
  /** 403 (S3 behind CloudFront) or 404: the key is not there. */
  | { kind: "missing"; status: number }
  /** Timeouts, resets, 429, 5xx: says nothing about the key. */
  | { kind: "transient"; status?: number; error: string };

/** Playlists of the longest streams are a few hundred kB; far more is not a playlist. */
const MAX_BODY = 8 << 20;

/**
 * GETs against the CDN for one run: a few in flight (Bottleneck's maxConcurrent), and a politeness
 * budget over a sliding window, kept in Bottleneck's reservoir: each request takes one unit and
 * gives it back `windowMs` after it went out, so no window of that length ever holds more than
 * `budget` requests. Every request has connect, headers, body and overall timeouts (undici).
 */
export class CdnClient {
  readonly #limiter: Bottleneck;
  readonly #agent: Agent;
  readonly #sentAt: number[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Requests that went out (aborted ones included: the CDN saw them). */
  requests = 0;

  constructor(private readonly options: CdnClientOptions) {
    this.#limiter = new Bottleneck({ maxConcurrent: options.concurrency, reservoir: options.budget });
    this.#limiter.on("depleted", (empty) => {
      if (!empty) options.onBudgetSpent?.(Math.max(0, (this.#sentAt[0] ?? Date.now()) + options.windowMs - Date.now()));
    });
    this.#agent = new Agent({
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 10_000,
      connections: options.concurrency,
    });
  }

  /** One GET once budget and a slot allow; resolves to null without a request when `signal` aborted meanwhile. */
  get(url: string, signal: AbortSignal): Promise<CdnAnswer | null> {
    return this.#limiter.schedule(async () => {
      const turn = await this.#turn(signal);
      if (turn !== "go") {
        // Not sent: the unit goes back at once.
        await this.#limiter.incrementReservoir(1);
        return turn;
      }
      this.#spent();
      this.options.onSent?.(this.requests);
      return this.#get(url, signal);
    });
  }

  /** The shared budget's turn: "go", null when aborted meanwhile, a transient answer when the budget cannot be asked. */
  async #turn(signal: AbortSignal): Promise<"go" | null | CdnAnswer> {
    if (signal.aborted) return null;
    if (!this.options.turn) return "go";
    try {
      await this.options.turn(signal);
      return signal.aborted ? null : "go";
    } catch (err) {
      if (signal.aborted) return null;
      return { kind: "transient", error: `the shared CDN budget did not answer (${(err as Error).message})` };
    }
  }

  #spent(): void {
    this.requests++;
    const now = Date.now();
    this.#sentAt.push(now);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#sentAt.shift();
      void this.#limiter.incrementReservoir(1);
    }, this.options.windowMs);
    // Kept referenced: a job waiting for its unit must keep the process alive; close() clears them.
    this.#timers.add(timer);
  }

  async #get(url: string, cancel: AbortSignal): Promise<CdnAnswer | null> {
    const signal = AbortSignal.any([cancel, AbortSignal.timeout(this.options.requestTimeoutMs)]);
    try {
      const res = await request(url, { method: "GET", dispatcher: this.#agent, signal, headers: { accept: "*/*" } });
      if (res.statusCode !== 200) {
        await res.body.dump();
        if (res.statusCode === 403 || res.statusCode === 404) return { kind: "missing", status: res.statusCode };
        return { kind: "transient", status: res.statusCode, error: `HTTP ${res.statusCode}` };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY) {
          await res.body.dump().catch(() => undefined);
          return { kind: "transient", status: 200, error: "body too large" };
        }
        chunks.push(chunk);
      }
      return { kind: "ok", status: 200, body: Buffer.concat(chunks).toString("utf8") };
    } catch (err) {
      if (cancel.aborted) return null;
      return { kind: "transient", error: describe(err) };
    }
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
    await this.#agent.destroy();
  }
}

function describe(err: unknown): string {
  if (err instanceof errors.ConnectTimeoutError) return "connect timeout";
  if (err instanceof errors.HeadersTimeoutError) return "headers timeout";
  if (err instanceof errors.BodyTimeoutError) return "body timeout";
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === "TimeoutError" || e.name === "AbortError") return "request timeout";
  return e.code ?? e.message ?? String(err);
}
