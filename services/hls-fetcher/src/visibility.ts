import Bottleneck from "bottleneck";
import type { Logger } from "@vod/log";
import { createGqlClient, parseStreamerArchives, STREAMER_ARCHIVES_QUERY, streamerArchivesVariables, type GqlClient } from "@vod/twitch";

export interface VisibilityOptions {
  endpoint: string;
  clientId: string;
  /** GQL requests per second (real time), separate from the CDN's limiter. */
  perSecond: number;
  /** Whole lookup, waiting for the limiter included. */
  timeoutMs: number;
  /** Lookups waiting for the limiter beyond this are not made (their VODs stay unknown). */
  maxQueued: number;
}

export interface VodVisibility {
  public: boolean | null;
  subOnly: boolean | null;
}

const UNKNOWN: VodVisibility = { public: null, subOnly: null };

/**
 * Asks GQL whether a VOD is listed among its streamer's archives. Best effort: any failure,
 * slow answer or odd shape gives nulls, so the VOD's outcome never waits longer than the timeout.
 */
export class VisibilityLookup {
  readonly #limiter: Bottleneck;
  readonly #client: GqlClient;

  constructor(
    private readonly options: VisibilityOptions,
    private readonly log: Logger,
  ) {
    this.#limiter = new Bottleneck({
      minTime: Math.ceil(1000 / options.perSecond),
      highWater: options.maxQueued,
      strategy: Bottleneck.strategy.OVERFLOW,
    });
    this.#client = createGqlClient({ endpoint: options.endpoint, clientId: options.clientId, timeoutMs: options.timeoutMs, retries: 0 });
  }

  async lookup(req: { streamerId: string; streamId: string; startTime: string }, signal: AbortSignal): Promise<VodVisibility> {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]);
    try {
      const scheduled = this.#limiter.schedule(() => {
        // A lookup whose deadline passed in the queue is not sent at all.
        deadline.throwIfAborted();
        return this.#client.query(STREAMER_ARCHIVES_QUERY, streamerArchivesVariables(req.streamerId), deadline);
      });
      const answer = await untilAborted(scheduled, deadline);
      const { public: isPublic, subOnly } = parseStreamerArchives(answer.data, req.streamId, req.startTime);
      return { public: isPublic, subOnly };
    } catch (err) {
      signal.throwIfAborted();
      this.log.debug({ err, streamerId: req.streamerId, streamId: req.streamId }, "visibility lookup failed; left unknown");
      return UNKNOWN;
    }
  }

  async stop(): Promise<void> {
    await this.#limiter.stop({ dropWaitingJobs: true });
  }
}

/** Settles with `work`, or rejects when `signal` aborts first (the queued job then ends on its own). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    work.then(
      (v) => (signal.removeEventListener("abort", abort), resolve(v)),
      (e: unknown) => (signal.removeEventListener("abort", abort), reject(e)),
    );
  });
}
