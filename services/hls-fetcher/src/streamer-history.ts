import { LRUCache } from "lru-cache";
import { PendingDeltas } from "./pending-deltas.ts";

/** How a streamer's VODs turned out so far: the prior for the next one. */
export interface StreamerHistory {
  /** The domain that last served one of its VODs; null until one is found. */
  domain: string | null;
  foundAt: number | null;
  found: number;
  notFound: number;
  /** Found on the CDN while GQL did not list them: the streamer hides its VODs. */
  unlistedFound: number;
  /** Last CDN search for one of its VODs (at least one request). */
  checkedAt: number | null;
}

/** What this process learned of a streamer since its last flush (same fields): added to the row in Postgres, never written over it. */
export type StreamerDelta = StreamerHistory;

interface StreamerEntry {
  history: StreamerHistory;
  /** Read from Postgres (false: built from this process's own events while Postgres could not be read). */
  loaded: boolean;
}

export const emptyHistory = (): StreamerHistory => ({
  domain: null,
  foundAt: null,
  found: 0,
  notFound: 0,
  unlistedFound: 0,
  checkedAt: null,
});

export const later = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/** `h` with `d` learned after it: counts added, the domain of the latest find, the latest times. */
function withDelta(h: StreamerHistory, d: StreamerDelta): StreamerHistory {
  const newer = d.foundAt !== null && (h.foundAt === null || d.foundAt >= h.foundAt);
  return {
    domain: newer ? d.domain : h.domain,
    foundAt: later(h.foundAt, d.foundAt),
    found: h.found + d.found,
    notFound: h.notFound + d.notFound,
    unlistedFound: h.unlistedFound + d.unlistedFound,
    checkedAt: later(h.checkedAt, d.checkedAt),
  };
}

/** Deltas held while Postgres is away, at most; the oldest are dropped (knowledge orders requests, it decides no outcome). */
const MAX_PENDING_STREAMERS = 100_000;

/**
 * Each streamer's history: the ones read from Postgres (with this process's unflushed deltas on
 * top) kept in an LRU cache, so memory stays flat however many streamers there are, and what this
 * process learned of each since its last flush.
 */
export class StreamerHistories {
  readonly #cache: LRUCache<string, StreamerEntry>;
  readonly #pending = new PendingDeltas<StreamerDelta>(withDelta);

  constructor(size: number, ttlMs: number) {
    this.#cache = new LRUCache({ max: size, ttl: ttlMs, updateAgeOnGet: false });
  }

  /** Streamers among these whose history is not in memory as read from Postgres (or is older than the cache's ttl). */
  unloaded(streamerIds: readonly string[]): string[] {
    return [...new Set(streamerIds)].filter((id) => /^\d+$/.test(id) && !this.#cache.get(id)?.loaded);
  }

  /** A streamer's history as Postgres has it, with what this process learned since its last flush on top. */
  loaded(streamerId: string, base: StreamerHistory): void {
    const pending = this.#pending.get(streamerId);
    this.#cache.set(streamerId, { history: pending ? withDelta(base, pending) : base, loaded: true });
  }

  get size(): number {
    return this.#cache.size;
  }

  get(streamerId: string): StreamerHistory | undefined {
    return this.#cache.get(streamerId)?.history;
  }

  /** A VOD of the streamer was not found (`searched`: at least one CDN request was made for it). */
  notFound(streamerId: string, searched: boolean, now: number): void {
    const h = this.#historyOf(streamerId);
    const d = this.#deltaOf(streamerId);
    h.notFound++;
    d.notFound++;
    if (searched) h.checkedAt = d.checkedAt = now;
  }

  /** A VOD of the streamer was found on `domain`; `listed`: GQL listed it. */
  found(streamerId: string, domain: string, now: number, listed: boolean): void {
    const s = this.#historyOf(streamerId);
    const sd = this.#deltaOf(streamerId);
    s.domain = sd.domain = domain;
    s.foundAt = sd.foundAt = now;
    s.checkedAt = sd.checkedAt = now;
    s.found++;
    sd.found++;
    if (!listed) {
      s.unlistedFound++;
      sd.unlistedFound++;
    }
  }

  /** The deltas to write, taken out: `restore` puts them back if the write fails. */
  take(): [string, StreamerDelta][] {
    return this.#pending.take();
  }

  /** Deltas a failed flush took, kept for the next one, merged with whatever was learned meanwhile. */
  restore(deltas: readonly [string, StreamerDelta][]): void {
    this.#pending.restore(deltas);
  }

  #historyOf(streamerId: string): StreamerHistory {
    const entry = this.#cache.get(streamerId);
    if (entry) return entry.history;
    // Not looked up (Postgres away, or no database): what this process saw itself, read again by the next warm().
    const pending = this.#pending.get(streamerId);
    const history = pending ? withDelta(emptyHistory(), pending) : emptyHistory();
    this.#cache.set(streamerId, { history, loaded: false });
    return history;
  }

  #deltaOf(streamerId: string): StreamerDelta {
    let d = this.#pending.get(streamerId);
    if (!d) {
      if (this.#pending.size >= MAX_PENDING_STREAMERS) {
        const oldest = this.#pending.keys().next().value;
        if (oldest !== undefined) this.#pending.delete(oldest);
      }
      this.#pending.set(streamerId, (d = emptyHistory()));
    }
    return d;
  }
}
