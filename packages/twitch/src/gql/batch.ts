import { GqlError, postGql } from "./client.ts";

/** One operation of a batch: Twitch's endpoint takes an array of `{query, variables}` in one POST. */
export interface GqlOperation {
  document: string;
  variables: Record<string, unknown>;
}

/** Each operation's own outcome: one failed resolver does not fail the others in the POST. */
export type GqlOperationResult = { ok: true; data: unknown; errors: string[] } | { ok: false; error: GqlError };

export interface GqlBatchClient {
  /**
   * Sends the operations in one POST, one attempt (callers retry the operations that failed, since
   * the next POST may carry other ones). Rejects with a GqlError when the POST itself failed.
   */
  batch(operations: GqlOperation[], signal?: AbortSignal): Promise<GqlOperationResult[]>;
}

export interface GqlBatchClientOptions {
  endpoint: string;
  clientId: string;
  headers?: Record<string, string>;
  /** Per POST; a server that accepts and never answers costs this much, not minutes. */
  timeoutMs?: number;
  /** Largest answer read (bytes, default GQL_MAX_BODY_BYTES); a larger one fails the POST (kind `too_large`). */
  maxBodyBytes?: number;
  /** Wraps each POST, e.g. a rate limiter. */
  schedule?: <T>(post: () => Promise<T>) => Promise<T>;
}

const answerOf = (raw: unknown): GqlOperationResult => {
  if (!raw || typeof raw !== "object") return { ok: false, error: new GqlError("graphql", "answer is not an object") };
  const { data, errors } = raw as { data?: unknown; errors?: unknown };
  const messages = Array.isArray(errors)
    ? errors.map((e) => String((e as { message?: unknown } | null)?.message ?? e))
    : [];
  if (data === undefined || data === null)
    return { ok: false, error: new GqlError("graphql", messages.join("; ") || "answer without data") };
  // A root field nulled by an error is a failed resolver (Twitch's come back): worth a retry.
  if (messages.length > 0 && Object.values(data as object).some((v) => v === null))
    return { ok: false, error: new GqlError("graphql", messages.join("; ")) };
  return { ok: true, data, errors: messages };
};

export function createGqlBatchClient(options: GqlBatchClientOptions): GqlBatchClient {
  const { endpoint, clientId, headers = {}, timeoutMs = 10_000, schedule = (post) => post() } = options;

  async function post(operations: GqlOperation[], signal: AbortSignal | undefined): Promise<GqlOperationResult[]> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let status: number;
    let text: string;
    try {
      ({ status, text } = await postGql(
        endpoint,
        { ...headers, "Client-ID": clientId },
        operations.map((o) => ({ query: o.document, variables: o.variables })),
        { signal: combined, maxBodyBytes: options.maxBodyBytes },
      ));
    } catch (err) {
      if (err instanceof GqlError) throw err;
      if (signal?.aborted) throw new GqlError("aborted", "aborted");
      if (timeout.aborted) throw new GqlError("timeout", `no answer within ${timeoutMs} ms`);
      throw new GqlError("network", err instanceof Error ? err.message : String(err));
    }
    if (status !== 200) throw new GqlError("http", `HTTP ${status}: ${text.slice(0, 200)}`, status);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new GqlError("graphql", `answer is not JSON: ${text.slice(0, 100)}`);
    }
    if (!Array.isArray(body)) throw new GqlError("graphql", `a batch was answered with ${text.slice(0, 100)}`);
    return operations.map((_, i) =>
      i < body.length
        ? answerOf(body[i])
        : { ok: false, error: new GqlError("graphql", "no answer for this operation") },
    );
  }

  return { batch: (operations, signal) => schedule(() => post(operations, signal)) };
}
