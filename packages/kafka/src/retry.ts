import type { EachBatchPayload } from "kafkajs";
import type { Logger } from "@vod/log";
import { backoffDelay, sleep, type BackoffOptions } from "@vod/backoff";
import { PermanentError } from "./subscription.ts";

/** The batch in hand was given up (the consumer is stopping, or the batch went stale): it will be redelivered. */
export class Abandoned extends Error {}

export interface RetrySettings {
  /** Fires when the consumer is stopping: the backoff wait ends and the work is abandoned. */
  stopping: AbortSignal;
  heartbeatIntervalMs: number;
  backoff: BackoffOptions;
}

export interface ChunkAttempts {
  log: Logger;
  /** False once kafkajs stopped running or the batch went stale (the partition went elsewhere). */
  stillRunning: () => boolean;
  payload: EachBatchPayload;
  /** Counts every attempt, for the batch's report. */
  report: { attempts: number };
}

/**
 * Runs one piece of a chunk's work until it succeeds: a transient failure waits with backoff and
 * tries again for as long as the consumer runs, heartbeating meanwhile so a slow handler keeps the
 * partition. A PermanentError is not retried; stopping or a stale batch throws Abandoned.
 */
export function retrying(settings: RetrySettings, chunk: ChunkAttempts): <R>(work: () => Promise<R>) => Promise<R> {
  const { stopping, heartbeatIntervalMs, backoff } = settings;
  const { log, stillRunning, payload, report } = chunk;
  return async <R>(work: () => Promise<R>): Promise<R> => {
    for (let attempt = 0; ; attempt++) {
      if (!stillRunning() || stopping.aborted) throw new Abandoned();
      report.attempts++;
      const beat = setInterval(() => void payload.heartbeat().catch(() => undefined), heartbeatIntervalMs);
      try {
        return await work();
      } catch (err) {
        if (err instanceof PermanentError) throw err;
        const delay = backoffDelay(attempt, backoff);
        log.error({ err, attempt, retryInMs: delay }, "handler failed; retrying");
        await sleep(delay, stopping);
      } finally {
        clearInterval(beat);
      }
    }
  };
}
