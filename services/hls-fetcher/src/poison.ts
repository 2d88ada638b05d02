import { vodFetchResult, type VodFetchRequest, type VodFetchResult } from "@vod/kafka";

/** Reasons are stored with the VOD and logged: bounded, whatever the error carried. */
const MAX_REASON = 300;

export const reasonOf = (err: unknown): string => {
  const e = err as { name?: unknown; message?: unknown };
  const text =
    typeof e?.message === "string" ? `${typeof e.name === "string" ? e.name : "Error"}: ${e.message}` : String(err);
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
};

/**
 * Why a result cannot be published as it is, or null: it fails its topic's schema, or its JSON is
 * larger than `maxBytes` (a Kafka message over the topic's limit would be refused on every retry).
 */
export function resultProblem(result: VodFetchResult, maxBytes: number): string | null {
  const parsed = vodFetchResult.safeParse(result);
  if (!parsed.success)
    return reasonOf(
      new Error(
        `result fails its schema: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      ),
    );
  const bytes = Buffer.byteLength(JSON.stringify(parsed.data));
  if (bytes > maxBytes)
    return `result of ${bytes} bytes is over RESULT_MAX_BYTES (${maxBytes}); the playlist is not stored`;
  return null;
}

/** The `failed` outcome of one VOD whose handling went wrong, so the rest of its batch goes on. */
export function failedResult(req: VodFetchRequest, reason: string, now: number, requests = 0): VodFetchResult {
  return {
    v: 1,
    streamId: req.streamId,
    startTime: req.startTime,
    streamerId: req.streamerId,
    login: req.login,
    firstSeen: req.firstSeen,
    lastSeen: req.lastSeen,
    maxViewers: req.maxViewers,
    outcome: "failed",
    fetchedAt: new Date(now).toISOString(),
    requests,
    found: null,
    error: reason,
  };
}
