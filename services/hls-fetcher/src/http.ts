import { Agent, errors, request } from "undici";
import type { RateLimiter } from "@vod/cdn-budget";

export interface CdnHttpOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  requestTimeoutMs: number;
  /** Playlists of the longest streams are a few hundred kB; anything far larger is not one. */
  maxBodyBytes?: number;
}

export type CdnAnswer =
  | { kind: "ok"; status: 200; body: string }
  /** 403 (S3 behind CloudFront) or 404: the key is not there. */
  | { kind: "missing"; status: number }
  /** 429: the limiter slows down; the request may be retried. */
  | { kind: "rate_limited"; status: 429; retryAfterMs?: number }
  /** Timeouts, resets, 5xx and other unexpected answers: the domain is unwell, not the key absent. */
  | { kind: "transient"; status?: number; error: string };

/**
 * GETs through the shared limiter with a keep-alive pool per origin (undici's Agent keeps one per
 * origin) and connect/headers/body timeouts, so a blackholed domain costs seconds.
 */
export class CdnHttp {
  readonly #agent: Agent;
  readonly #options: Required<CdnHttpOptions>;

  constructor(
    private readonly limiter: RateLimiter,
    options: CdnHttpOptions,
  ) {
    this.#options = { maxBodyBytes: 8 << 20, ...options };
    this.#agent = new Agent({
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
      connections: 8,
    });
  }

  /**
   * One HTTP request; `signal` (shutdown, a deadline) aborts it, its wait for a turn included, and rejects instead of answering. `priority`
   * orders requests the limiter still holds (the deep search, which also waits for an idle limiter, asks 9).
   */
  get(url: string, signal: AbortSignal, priority?: number): Promise<CdnAnswer> {
    return this.limiter.schedule(
      async () => {
        signal.throwIfAborted();
        const answer = await this.#get(url, signal);
        if (answer.kind === "rate_limited") this.limiter.rateLimited(answer.retryAfterMs);
        else if (answer.kind !== "transient") this.limiter.succeeded();
        return answer;
      },
      priority,
      signal,
    );
  }

  /**
   * Whether a segment is still there, for one request and a few bytes: a GET of its first byte (200 or 206
   * is there; 403/404 is gone; anything else says nothing). The body is dropped unread.
   */
  probe(url: string, signal: AbortSignal, priority?: number): Promise<"there" | "gone" | { error: string }> {
    return this.limiter.schedule(
      async () => {
        signal.throwIfAborted();
        const timed = AbortSignal.any([signal, AbortSignal.timeout(this.#options.requestTimeoutMs)]);
        try {
          const res = await request(url, {
            method: "GET",
            dispatcher: this.#agent,
            signal: timed,
            headers: { accept: "*/*", range: "bytes=0-0" },
          });
          await res.body.dump();
          if (res.statusCode === 429) this.limiter.rateLimited();
          else if (res.statusCode < 500) this.limiter.succeeded();
          if (res.statusCode === 200 || res.statusCode === 206) return "there";
          if (res.statusCode === 403 || res.statusCode === 404) return "gone";
          return { error: `HTTP ${res.statusCode}` };
        } catch (err) {
          if (signal.aborted) throw signal.reason ?? err;
          return { error: describe(err) };
        }
      },
      priority,
      signal,
    );
  }

  async #get(url: string, shutdown: AbortSignal): Promise<CdnAnswer> {
    const signal = AbortSignal.any([shutdown, AbortSignal.timeout(this.#options.requestTimeoutMs)]);
    try {
      const res = await request(url, { method: "GET", dispatcher: this.#agent, signal, headers: { accept: "*/*" } });
      const status = res.statusCode;
      if (status === 200) {
        const body = await readCapped(res.body, this.#options.maxBodyBytes);
        return body === null ? { kind: "transient", status, error: "body too large" } : { kind: "ok", status, body };
      }
      await res.body.dump();
      if (status === 403 || status === 404) return { kind: "missing", status };
      if (status === 429) {
        const retryAfter = Number(res.headers["retry-after"]);
        return Number.isFinite(retryAfter) && retryAfter > 0
          ? { kind: "rate_limited", status, retryAfterMs: retryAfter * 1000 }
          : { kind: "rate_limited", status };
      }
      return { kind: "transient", status, error: `HTTP ${status}` };
    } catch (err) {
      if (shutdown.aborted) throw shutdown.reason ?? err;
      return { kind: "transient", error: describe(err) };
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}

async function readCapped(
  body: AsyncIterable<Buffer> & { dump(): Promise<void> },
  max: number,
): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      await body.dump().catch(() => undefined);
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describe(err: unknown): string {
  if (err instanceof errors.ConnectTimeoutError) return "connect timeout";
  if (err instanceof errors.HeadersTimeoutError) return "headers timeout";
  if (err instanceof errors.BodyTimeoutError) return "body timeout";
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === "TimeoutError" || e.name === "AbortError") return "request timeout";
  return e.code ?? e.message ?? String(err);
}
