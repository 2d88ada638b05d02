import { backoffDelay, sleep } from "@vod/backoff";
import { ClientError, GraphQLClient } from "graphql-request";

export const TWITCH_GQL_ENDPOINT = "https://gql.twitch.tv/gql";
/** The client id of Twitch's own web page (FACTS.md); it changes rarely, so it is only a default. */
export const TWITCH_WEB_CLIENT_ID = "kimne78kx3ncx6brgo4mv6wki5h1ko";

export interface GqlClientOptions {
  endpoint?: string;
  clientId?: string;
  /** Extra headers sent with every request (e.g. a user agent or an OAuth header). */
  headers?: Record<string, string>;
  /** Per attempt; a server that accepts and never answers costs this much, not minutes. */
  timeoutMs?: number;
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
    readonly kind: "timeout" | "aborted" | "http" | "graphql" | "network",
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

export function createGqlClient(options: GqlClientOptions = {}): GqlClient {
  const {
    endpoint = TWITCH_GQL_ENDPOINT,
    clientId = TWITCH_WEB_CLIENT_ID,
    headers = {},
    timeoutMs = 10_000,
    retries = 3,
    backoffInitialMs = 500,
    backoffMaxMs = 10_000,
    schedule = (attempt) => attempt(),
    random = Math.random,
    onRetry,
  } = options;
  const client = new GraphQLClient(endpoint, {
    headers: { ...headers, "Client-ID": clientId },
    errorPolicy: "all",
  });

  async function attempt<T>(
    document: string,
    variables: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<GqlAnswer<T>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await client.rawRequest<T>({ query: document, variables, signal: combined });
      const errors = (res.errors ?? []).map((e) => e.message);
      if (res.data === undefined || res.data === null) {
        throw new GqlError("graphql", errors.length > 0 ? errors.join("; ") : "answer without data");
      }
      // A root field nulled by an error is a failed resolver (Twitch's come back): worth a retry.
      if (errors.length > 0 && Object.values(res.data as object).some((v) => v === null)) {
        throw new GqlError("graphql", errors.join("; "));
      }
      return { data: res.data, errors };
    } catch (err) {
      if (err instanceof GqlError) throw err;
      if (signal?.aborted) throw new GqlError("aborted", "aborted");
      if (timeout.aborted) throw new GqlError("timeout", `no answer within ${timeoutMs} ms`);
      if (err instanceof ClientError) {
        const status = err.response.status;
        const gqlErrors = err.response.errors?.map((e) => e.message).join("; ");
        if (status === 200) throw new GqlError("graphql", gqlErrors || "GraphQL error");
        throw new GqlError("http", `HTTP ${status}: ${String(err.response.body ?? "").slice(0, 200)}`, status);
      }
      throw new GqlError("network", err instanceof Error ? err.message : String(err));
    }
  }

  return {
    async query<T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal) {
      for (let n = 0; ; n++) {
        try {
          return await schedule(() => attempt<T>(document, variables, signal));
        } catch (err) {
          const error = err instanceof GqlError ? err : new GqlError("network", String(err));
          if (error.kind === "aborted" || n >= retries) throw error;
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
