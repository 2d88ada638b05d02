import { Redis } from "ioredis";
import { budgetKeys, type BudgetKeys } from "./keys.ts";
import { LATE_START_LUA } from "./limiter.ts";

export interface SpareTurnsOptions {
  redisUrl: string;
  /** The fetchers' budget id (theirs is `cdn-budget:${CDN_EGRESS}`). */
  id: string;
  /** The fetchers' rate; the spacing they last used, kept in Redis, wins when wider (after a 429). */
  perSecond: number;
  slackMsPerSecond?: number;
  /** Of the rate, what the spare turns may take while the fetchers use every turn (0 < share ≤ 1). */
  share: number;
  commandTimeoutMs?: number;
}

/**
 * A turn for a lower-priority user of the fetchers' budget (the page's searches). KEYS as in
 * keys.ts; ARGV: the spacing, the keys' TTL, the share. A turn the fetchers have let pass by a whole
 * spacing is spare: taken at once (0). Otherwise, at most once per spacing/share, the next turn of
 * the schedule is reserved, so the fetchers cannot take it too: returns -(ms until it + 1). Else the
 * ms to wait before asking again. Every start moves the one schedule on: the total stays at the rate.
 */
const SPARE_TURN_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local spacing = math.max(tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[2]) or '0'))
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= due + spacing then
  redis.call('SET', KEYS[1], tostring(now + spacing), 'PX', ARGV[2])
  return 0
end
local shareDue = tonumber(redis.call('GET', KEYS[3]) or '0')
if shareDue <= now then
  local at = math.max(due, now)
  redis.call('SET', KEYS[1], tostring(at + spacing), 'PX', ARGV[2])
  redis.call('SET', KEYS[3], tostring(at + spacing / tonumber(ARGV[3])), 'PX', ARGV[2])
  return -(math.ceil(at - now) + 1)
end
return math.max(1, math.ceil(math.min(due + spacing, shareDue) - now))
`;

const TTL_MS = 60_000;

type Commands = {
  cdnSpareTurn(key: string, spacingKey: string, shareKey: string, ...argv: number[]): Promise<number>;
  cdnLateStart(key: string, minTimeMs: number, ttlMs: number, catchUpMs: number): Promise<number>;
};

/**
 * Turns of the fetchers' shared CDN budget (RateLimiter, same Redis and id) for requests that come
 * after the fetchers' own work: whatever turns they leave, and while they use every turn a small
 * share of the rate, so a search still ends. One schedule in Redis for all: fetchers and spare
 * turns together never start more than the rate's requests in a second.
 */
export class SpareTurns {
  readonly #client: Redis;
  readonly #keys: BudgetKeys;
  readonly #spacingMs: number;
  readonly #catchUpMs: number;
  readonly #share: number;
  /** Takes of this process go one at a time: the others would only ask Redis for the same turn. */
  #gate: Promise<void> = Promise.resolve();

  constructor(o: SpareTurnsOptions) {
    if (!(o.share > 0 && o.share <= 1)) throw new Error(`share must be in (0, 1], got ${o.share}`);
    const slack = o.slackMsPerSecond ?? 30;
    this.#spacingMs = Math.ceil((1000 + slack) / o.perSecond);
    this.#catchUpMs = slack / 2;
    this.#share = o.share;
    this.#keys = budgetKeys(o.id);
    this.#client = new Redis(o.redisUrl, {
      connectTimeout: 5_000,
      maxRetriesPerRequest: 3,
      commandTimeout: o.commandTimeoutMs ?? 2_000,
      lazyConnect: true,
    });
    this.#client.on("error", () => undefined);
    this.#client.defineCommand("cdnSpareTurn", { numberOfKeys: 3, lua: SPARE_TURN_LUA });
    this.#client.defineCommand("cdnLateStart", { numberOfKeys: 1, lua: LATE_START_LUA });
  }

  /** Resolves once Redis answers; rejects when it does not. */
  async ready(): Promise<void> {
    if (this.#client.status === "wait") await this.#client.connect();
    await this.#client.ping();
  }

  /**
   * Resolves when a request may start now. `onWait` hears each wait of a second or more (the
   * fetchers are using the budget), with its length; `signal` ends the wait at once.
   */
  take(signal?: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    const turn = this.#gate.then(() => this.#take(signal, onWait));
    this.#gate = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  async #take(signal: AbortSignal | undefined, onWait: ((ms: number) => void) | undefined): Promise<void> {
    const c = this.#client as unknown as Commands;
    const { key, spacingKey, shareKey } = this.#keys;
    for (;;) {
      signal?.throwIfAborted();
      const asked = performance.now();
      const answer = await c.cdnSpareTurn(key, spacingKey, shareKey, this.#spacingMs, TTL_MS, this.#share);
      if (answer === 0) return this.#started(asked);
      const wait = answer < 0 ? -answer - 1 : answer;
      if (wait >= 1_000) onWait?.(wait);
      const at = performance.now() + wait;
      await pause(wait, signal);
      if (answer < 0) return this.#started(at);
    }
  }

  /** A start later than its turn allows: the next turn keeps its distance from this one (as RateLimiter does). */
  #started(turn: number): void {
    if (performance.now() - turn <= this.#catchUpMs) return;
    (this.#client as unknown as Commands)
      .cdnLateStart(this.#keys.key, this.#spacingMs, TTL_MS, this.#catchUpMs)
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}

/** Waits `ms`; rejects at once when `signal` fires. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason ?? new DOMException("aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
