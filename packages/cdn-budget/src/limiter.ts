import Bottleneck from "bottleneck";
import { Redis } from "ioredis";
import { budgetKeys, type BudgetKeys } from "./keys.ts";

export interface RateLimiterOptions {
  perSecond: number;
  /** The slowest a series of 429s can make it. */
  floorPerSecond: number;
  /**
   * Arrivals at the server may bunch by this much (network, a loaded event loop on either side): the spacing
   * leaves it spare in every second, so no second there sees one request more than `perSecond`. Per second,
   * not per request, so a high rate (a sped-up simulation) keeps nearly all of its budget.
   */
  slackMsPerSecond?: number;
  /**
   * One budget for every process that names the same `id` on this Redis (Bottleneck's clustering):
   * request times are planned in Redis, so N fetchers behind one egress address together stay at
   * `perSecond`. Absent: the budget is this process's alone.
   */
  cluster?: {
    redisUrl: string;
    id: string;
    /**
     * Longest wait for one Redis command: a Redis that holds the connection but never answers fails each
     * request's turn after this, instead of stalling every CDN request. Default 2 s.
     */
    commandTimeoutMs?: number;
  };
}

/**
 * The budget's start gate (a GCRA): KEYS[1] holds the earliest time the next request may start. It
 * returns how many ms are left, or takes the start (returns 0) and moves that time on by the spacing
 * (ARGV[1]) from where it was, not from now, when this start is late by at most ARGV[3] ms: a timer
 * that fired late does not push every later request back. Redis's clock, so processes on different
 * machines agree. KEYS[2] keeps the spacing in force, for the spare turns (spare.ts) to keep to it.
 */
const START_GATE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due > now then return math.ceil(due - now) end
local from = math.max(due, now - tonumber(ARGV[3]))
redis.call('SET', KEYS[1], tostring(from + tonumber(ARGV[1])), 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 0
`;

/**
 * A start that left later than its turn (its process stalled between the gate and the request):
 * KEYS[1], the earliest next start, moves to at least now plus the spacing (ARGV[1]) less the
 * catch-up (ARGV[3]), so the next start keeps its distance from this late one rather than from the
 * turn it was given. A start on time changes nothing.
 */
export const LATE_START_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = now + tonumber(ARGV[1]) - tonumber(ARGV[3])
if want > due then redis.call('SET', KEYS[1], tostring(want), 'PX', ARGV[2]) end
return 0
`;

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
  /** How late a start may be and still keep the schedule (half the slack; the other half is for the way). */
  readonly #catchUpMs: number;
  /** The earliest time (performance.now()) this process's next request may start. */
  #due = -Infinity;
  #gate: Promise<void> = Promise.resolve();

  readonly #connection: Bottleneck.IORedisConnection | undefined;
  /** The shared start gate (clustered only): the budget's last start, kept in Redis on Redis's clock. */
  readonly #shared: ({ client: Redis } & BudgetKeys) | undefined;

  constructor({ perSecond, floorPerSecond, slackMsPerSecond = 30, cluster }: RateLimiterOptions) {
    this.#baseMs = Math.ceil((1000 + slackMsPerSecond) / perSecond);
    this.#catchUpMs = slackMsPerSecond / 2;
    this.#maxMs = Math.max(this.#baseMs, Math.ceil(1000 / floorPerSecond));
    this.#minTimeMs = this.#baseMs;
    if (cluster) {
      // Bottleneck duplicates the client for its pub/sub; both close with the connection in stop().
      const client = new Redis(cluster.redisUrl, {
        connectTimeout: 5_000,
        maxRetriesPerRequest: 3,
        commandTimeout: cluster.commandTimeoutMs ?? 2_000,
      });
      client.defineCommand("cdnStartGate", { numberOfKeys: 2, lua: START_GATE_LUA });
      client.defineCommand("cdnLateStart", { numberOfKeys: 1, lua: LATE_START_LUA });
      this.#shared = { client, ...budgetKeys(cluster.id) };
      this.#connection = new Bottleneck.IORedisConnection({ client });
      this.#bottleneck = new Bottleneck({
        id: cluster.id,
        minTime: this.#minTimeMs,
        maxConcurrent: null,
        datastore: "ioredis",
        connection: this.#connection,
        // Settings in Redis are shared: the first instance creates them, a 429 anywhere slows every instance.
        clearDatastore: false,
        // Keys of a budget nobody uses any more expire.
        timeout: 15 * 60_000,
      });
    } else {
      this.#shared = undefined;
      this.#bottleneck = new Bottleneck({ minTime: this.#minTimeMs, maxConcurrent: null });
    }
  }

  /** Resolves once the shared budget in Redis is reachable (at once without one); rejects after `timeoutMs` without it. */
  async ready(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the shared CDN budget's Redis did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const ready = this.#bottleneck.ready();
    // Past the timeout nobody awaits it: its later failure (the connection closed by stop()) is not unhandled.
    ready.catch(() => undefined);
    try {
      await Promise.race([ready, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the budget is shared with other processes through Redis. */
  get clustered(): boolean {
    return this.#connection !== undefined;
  }

  /** Errors of the Redis connection (the budget's jobs fail while it is down). */
  onError(listener: (err: unknown) => void): void {
    this.#bottleneck.on("error", listener);
  }

  get minTimeMs(): number {
    return this.#minTimeMs;
  }

  /**
   * Whether the shared budget's Redis answers (within the command timeout); always true without one.
   * For /healthz: a Redis that stopped answering fails every CDN request.
   */
  async responsive(): Promise<boolean> {
    if (!this.#shared) return true;
    try {
      return (await this.#shared.client.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  /**
   * Runs `work` in turn; `priority` (0-9, default 5) orders jobs Bottleneck still holds in its queue.
   * `signal` rejects the wait at once, wherever it is (Bottleneck's queue, the gate, Redis); a job whose
   * signal fired never takes a start nor runs `work`.
   */
  schedule<T>(work: () => Promise<T>, priority?: number, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const job = this.#bottleneck.schedule(priority === undefined ? {} : { priority }, async () => {
      signal?.throwIfAborted();
      const turn = await this.#spaced(signal);
      signal?.throwIfAborted();
      this.#started(turn);
      return work();
    });
    return signal ? abortable(job, signal) : job;
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
   * than minTime after this one; measured starts are what a server's rate rule counts. So each start
   * passes a gate of its own: locally, and clustered also in Redis (on Redis's clock), since the late
   * timer may be another process's. The gate keeps a schedule rather than a last start, so timers
   * that fire a little late do not slow the budget down: with slack S, no 1000 ms window holds more
   * than the rate's starts, even when starts catch up by S/2.
   */
  #spaced(signal?: AbortSignal): Promise<number> {
    const next = this.#gate.then(async () => {
      // A job given up while it queued behind the gate passes through without taking a start.
      signal?.throwIfAborted();
      for (let wait = this.#due - performance.now(); wait > 0; wait = this.#due - performance.now())
        await pause(Math.ceil(wait), signal);
      let asked = performance.now();
      if (this.#shared) {
        const { client, key, spacingKey } = this.#shared;
        const run = (
          client as unknown as {
            cdnStartGate(
              key: string,
              spacingKey: string,
              minTimeMs: number,
              ttlMs: number,
              catchUpMs: number,
            ): Promise<number>;
          }
        ).cdnStartGate.bind(client);
        const take = () => {
          signal?.throwIfAborted();
          const turn = run(key, spacingKey, this.#minTimeMs, 60_000, this.#catchUpMs);
          return signal ? abortable(turn, signal) : turn;
        };
        // The turn is taken in Redis some time between asking and hearing back: a reply that waited on a
        // stalled event loop makes the request leave that much after its turn.
        for (;;) {
          asked = performance.now();
          const shared = await take();
          if (shared <= 0) break;
          await pause(shared, signal);
        }
      }
      const now = performance.now();
      this.#due = Math.max(this.#due, now - this.#catchUpMs) + this.#minTimeMs;
      return asked;
    });
    // A failed turn (Redis away) fails its own request only.
    this.#gate = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /**
   * The request given its turn no earlier than `turn` (performance.now()) starts now. Later than the catch-up allows
   * (a stalled event loop between the gate and the request, as under a CPU-bound neighbour), the next
   * start is spaced from now: otherwise this late start and the next on-time one arrive closer than the
   * spacing, and five land in less than a second at 4/s. Told to Redis without waiting: the request
   * leaves at the same moment.
   */
  #started(turn: number): void {
    const now = performance.now();
    if (now - turn <= this.#catchUpMs) return;
    this.#due = Math.max(this.#due, now + this.#minTimeMs - this.#catchUpMs);
    if (!this.#shared) return;
    const { client, key } = this.#shared;
    (
      client as unknown as {
        cdnLateStart(key: string, minTimeMs: number, ttlMs: number, catchUpMs: number): Promise<number>;
      }
    )
      .cdnLateStart(key, this.#minTimeMs, 60_000, this.#catchUpMs)
      .catch(() => undefined);
  }

  /** A 429: slow down now, at least to the server's Retry-After if it gave one. */
  rateLimited(retryAfterMs?: number): void {
    this.#set(Math.max(this.#minTimeMs * 2, retryAfterMs ?? 0));
    // From now, with no catching up on the schedule the 429 interrupted.
    this.#due = Math.max(this.#due, performance.now() + this.#minTimeMs);
  }

  succeeded(): void {
    if (this.#minTimeMs > this.#baseMs) this.#set(this.#minTimeMs * 0.98);
  }

  #set(ms: number): void {
    const next = Math.round(Math.min(this.#maxMs, Math.max(this.#baseMs, ms)));
    if (next === this.#minTimeMs) return;
    this.#minTimeMs = next;
    // Shared through Redis, best effort: with Redis away the command fails (unhandled, it would end the
    // process), while this process's own starts keep the new spacing, which its start gate applies.
    // (Typed as returning the limiter; it returns a promise of it.)
    Promise.resolve(this.#bottleneck.updateSettings({ minTime: next })).catch(() => undefined);
  }

  /** Drops queued requests (they reject) so shutdown does not wait for them; closes Bottleneck's Redis connection. */
  async stop(): Promise<void> {
    await this.#bottleneck.stop({ dropWaitingJobs: true });
    await this.#connection?.disconnect(false);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("aborted", "AbortError");
}

/** `promise`, or its signal's reason as soon as the signal fires (the promise's own outcome is then ignored). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Waits `ms`; rejects at once when `signal` fires. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((r) => setTimeout(r, ms));
  return abortable(
    new Promise<void>((resolve) => {
      const stop = () => clearTimeout(timer);
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", stop);
        resolve();
      }, ms);
      signal.addEventListener("abort", stop, { once: true });
    }),
    signal,
  );
}
