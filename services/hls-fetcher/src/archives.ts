import Bottleneck from "bottleneck";
import type { Logger } from "@vod/log";
import {
  createGqlBatchClient,
  parseArchiveListing,
  STREAMER_ARCHIVES_QUERY,
  streamerArchivesVariables,
  type ArchiveListing,
  type GqlBatchClient,
} from "@vod/twitch";

export interface ArchiveLookupOptions {
  endpoint: string;
  clientId: string;
  /** POSTs per second (real time): GQL has its own budget, apart from the CDN's. */
  perSecond: number;
  /** Whole lookup, waiting for its batch and the limiter included; past it the search goes on without. */
  timeoutMs: number;
  /** Streamers per POST (Twitch's endpoint takes an array of operations). */
  batchSize: number;
  /** How long a lookup waits for others to share its POST. */
  batchWaitMs: number;
  /** A listing answered this recently (clock time) is reused. */
  cacheMs: number;
  /** The clock the cache ages by (the one releases are timed by, epoch ms); the system clock by default. */
  now?: () => number;
  /** Largest GQL answer read (bytes); a larger one fails its POST. */
  maxBodyBytes?: number;
}

interface Waiter {
  resolve(listing: ArchiveListing | null): void;
  /** Whether it was answered or gave up (its deadline passed, its signal fired). */
  settled(): boolean;
  /** When it gives up (performance.now()). */
  deadline: number;
}

/**
 * A streamer's archive listing (`user.videos` with seekPreviewsURL, and subscriptionProducts), asked
 * several streamers per POST. Best effort: a failure, an error for one streamer, or no answer within
 * the timeout gives null, and the fetcher searches the CDN without it.
 */
export class ArchiveLookup {
  readonly #limiter: Bottleneck;
  readonly #client: GqlBatchClient;
  readonly #queue = new Map<string, Waiter[]>();
  readonly #cache = new Map<string, { at: number; listing: ArchiveListing }>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** POSTs sent and streamers asked, for metrics and the benchmark. */
  posts = 0;
  lookups = 0;
  failures = 0;

  constructor(
    private readonly options: ArchiveLookupOptions,
    private readonly log: Logger,
  ) {
    this.#limiter = new Bottleneck({ minTime: Math.ceil(1000 / options.perSecond), maxConcurrent: 2 });
    this.#client = createGqlBatchClient({
      endpoint: options.endpoint,
      clientId: options.clientId,
      timeoutMs: options.timeoutMs,
      ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    });
  }

  /**
   * `notBefore` (clock time): a cached listing taken earlier is not used. A VOD released because sweeps
   * stopped seeing its stream must not be told "still live" by a listing older than that evidence.
   */
  lookup(streamerId: string, signal: AbortSignal, notBefore = -Infinity): Promise<ArchiveListing | null> {
    const cached = this.#cache.get(streamerId);
    const now = this.#now();
    if (cached && now - cached.at < this.options.cacheMs && cached.at >= notBefore)
      return Promise.resolve(cached.listing);
    if (this.#stopped || signal.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const deadline = setTimeout(() => finish(null), this.options.timeoutMs);
      const onAbort = () => finish(null);
      signal.addEventListener("abort", onAbort, { once: true });
      let done = false;
      const finish = (listing: ArchiveListing | null) => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        signal.removeEventListener("abort", onAbort);
        resolve(listing);
      };
      const waiter: Waiter = {
        resolve: finish,
        settled: () => done,
        deadline: performance.now() + this.options.timeoutMs,
      };
      const waiters = this.#queue.get(streamerId);
      if (waiters) waiters.push(waiter);
      else this.#queue.set(streamerId, [waiter]);
      if (this.#queue.size >= this.options.batchSize) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.options.batchWaitMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.size > 0) {
      const batch = [...this.#queue].slice(0, this.options.batchSize);
      for (const [id] of batch) this.#queue.delete(id);
      // Stamped when the POST left: Twitch's answer is no older than that.
      let sentAt = this.#now();
      void this.#limiter
        .schedule(() => this.#post(batch, () => (sentAt = this.#now())))
        .catch((err: unknown) => {
          this.log.debug({ err, streamers: batch.length }, "archive lookup failed; searching without it");
          return new Map<string, ArchiveListing | null>();
        })
        .then((listings) => {
          for (const [id, waiters] of batch) {
            const listing = listings.get(id) ?? null;
            if (listing) this.#cache.set(id, { at: sentAt, listing });
            else this.failures++;
            for (const w of waiters) w.resolve(listing);
          }
          this.#trimCache();
        });
    }
  }

  /**
   * Asks for the streamers someone still waits for when the limiter lets the POST go: a lookup whose
   * deadline passed in the queue is given up, and its request never leaves. The POST ends by the
   * latest deadline of those it answers.
   */
  async #post(batch: [string, Waiter[]][], sending: () => void): Promise<Map<string, ArchiveListing | null>> {
    const wanted = batch.filter(([, waiters]) => waiters.some((w) => !w.settled()));
    if (this.#stopped || wanted.length === 0) return new Map();
    const left = Math.max(...wanted.flatMap(([, waiters]) => waiters.map((w) => w.deadline))) - performance.now();
    if (left <= 0) return new Map();
    this.posts++;
    this.lookups += wanted.length;
    sending();
    const results = await this.#client.batch(
      wanted.map(([id]) => ({ document: STREAMER_ARCHIVES_QUERY, variables: streamerArchivesVariables(id) })),
      AbortSignal.timeout(Math.ceil(left)),
    );
    // A failed resolver says nothing about the streamer's archives; a listing with errors inside reads as unreadable.
    return new Map(wanted.map(([id], i) => [id, results[i]?.ok ? parseArchiveListing(results[i].data) : null]));
  }

  #trimCache(): void {
    if (this.#cache.size < 10_000) return;
    const now = this.#now();
    for (const [id, c] of this.#cache) if (now - c.at >= this.options.cacheMs) this.#cache.delete(id);
  }

  #now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const waiters of this.#queue.values()) for (const w of waiters) w.resolve(null);
    this.#queue.clear();
    await this.#limiter.stop({ dropWaitingJobs: true });
  }
}
