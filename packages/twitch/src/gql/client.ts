import { request } from "undici";
import { backoffDelay, sleep } from "@vod/backoff";

export const TWITCH_GQL_ENDPOINT = "https://gql.twitch.tv/gql";
/** The client id of Twitch's own web page (FACTS.md); it changes rarely, so it is only a default. */
export const TWITCH_WEB_CLIENT_ID = "kimne78kx3ncx6brgo4mv6wki5h1ko";
/**
 * Largest GraphQL answer read. A POST of 10 pages of 30 streams is about 300 kB, and Twitch bounds
 * titles to 140 characters; an answer far larger is not one to hold in memory.
 */
export const GQL_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface GqlClientOptions {
  endpoint?: string;
  clientId?: string;
  /** Extra headers sent with every request (e.g. a user agent or an OAuth header). */
  headers?: Record<string, string>;
  /** Per attempt; a server that accepts and never answers costs this much, not minutes. */
  timeoutMs?: number;
  /** Largest answer read (bytes); a larger one fails its call (kind `too_large`, not retried). */
  maxBodyBytes?: number;
  /** Attempts after the first one; each waits with exponential backoff and full jitter. */
  retries?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Wraps each attempt, e.g. a rate limiter; defaults to calling it directly. */
  schedule?: <T>(attempt: () => Promise<T>) => Promise<T>;
  random?: () => number;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: { attempt: number; delayMs: number; error: GqlError }) => void;
}

/** Why a GraphQL call failed after its retries: the kind decides nothing, it is for logs and markers. */
export class GqlError extends Error {
  override name = "GqlError";
  constructor(
    readonly kind: "timeout" | "aborted" | "http" | "graphql" | "network" | "too_large",
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface GqlAnswer<T> {
  /** Untrusted: validate it. */
  data: T | undefined;
  /** GraphQL errors that came with partial data. */
  errors: string[];
}

export interface GqlClient {
  /**
   * Sends one query with timeout and retries. Resolves with data (possibly partial, alongside errors);
   * rejects with a GqlError when every attempt failed or `signal` aborted.
   */
  query<T = unknown>(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<GqlAnswer<T>>;
}

/**
 * POSTs `payload` as JSON and reads the answer, refusing (GqlError `too_large`) one over `maxBodyBytes`
 * while it streams in: by its Content-Length at once, else as soon as the bytes read pass the cap.
 * `signal` covers the body as well as the headers.
 */
export async function postGql(
  endpoint: string,
  headers: Record<string, string>,
  payload: unknown,
  { signal, maxBodyBytes = GQL_MAX_BODY_BYTES }: { signal: AbortSignal; maxBodyBytes?: number | undefined },
): Promise<{ status: number; text: string }> {
  const res = await request(endpoint, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(payload),
    signal,
  });
  const tooLarge = () => new GqlError("too_large", `answer over ${maxBodyBytes} bytes (GraphQL body cap)`);
  const declared = Number(res.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    res.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) {
      res.body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return { status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") };
}

export function createGqlClient(options: GqlClientOptions = {}): GqlClient {
  const {
    endpoint = TWITCH_GQL_ENDPOINT,
    clientId = TWITCH_WEB_CLIENT_ID,
    headers = {},
    timeoutMs = 10_000,
    retries = 3,
    maxBodyBytes = GQL_MAX_BODY_BYTES,
    backoffInitialMs = 500,
    backoffMaxMs = 10_000,
    schedule = (attempt) => attempt(),
    random = Math.random,
    onRetry,
  } = options;
  const sendHeaders = { ...headers, "Client-ID": clientId };

  async function attempt<T>(
    document: string,
    variables: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<GqlAnswer<T>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let answer: { status: number; text: string };
    try {
      answer = await postGql(endpoint, sendHeaders, { query: document, variables }, { signal: combined, maxBodyBytes });
    } catch (err) {
      if (err instanceof GqlError) throw err;
      if (signal?.aborted) throw new GqlError("aborted", "aborted");
      if (timeout.aborted) throw new GqlError("timeout", `no answer within ${timeoutMs} ms`);
      throw new GqlError("network", err instanceof Error ? err.message : String(err));
    }
    const { status, text } = answer;
    let body: { data?: T | null; errors?: { message?: unknown }[] } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      if (status !== 200) throw new GqlError("http", `HTTP ${status}: ${text.slice(0, 200)}`, status);
      throw new GqlError("graphql", `answer is not JSON: ${text.slice(0, 100)}`);
    }
    if (status !== 200) throw new GqlError("http", `HTTP ${status}: ${text.slice(0, 200)}`, status);
    const errors = Array.isArray(body?.errors) ? body.errors.map((e) => String(e?.message ?? e)) : [];
    const data = body?.data;
    if (data === undefined || data === null) {
      throw new GqlError("graphql", errors.length > 0 ? errors.join("; ") : "answer without data");
    }
    // A root field nulled by an error is a failed resolver (Twitch's come back): worth a retry.
    if (errors.length > 0 && Object.values(data as object).some((v) => v === null)) {
      throw new GqlError("graphql", errors.join("; "));
    }
    return { data, errors };
  }

  return {
    async query<T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal) {
      for (let n = 0; ; n++) {
        try {
          return await schedule(() => attempt<T>(document, variables, signal));
        } catch (err) {
          const error = err instanceof GqlError ? err : new GqlError("network", String(err));
          // An oversize answer would come back as large.
          if (error.kind === "aborted" || error.kind === "too_large" || n >= retries) throw error;
          // A 4xx other than 429 is our request's fault; repeating it will not help.
          if (
            error.kind === "http" &&
            error.status !== undefined &&
            error.status >= 400 &&
            error.status < 500 &&
            error.status !== 429
          )
            throw error;
          const delayMs = backoffDelay(n, { initialMs: backoffInitialMs, maxMs: backoffMaxMs }, random);
          onRetry?.({ attempt: n + 1, delayMs, error });
          await sleep(delayMs, signal);
          if (signal?.aborted) throw new GqlError("aborted", "aborted");
        }
      }
    },
  };
}
