import { AbortedError } from "./db.ts";

export interface SharedCacheOptions {
  /** How long an answer is reused; 0 turns the cache off (every request computes its own). */
  ttlMs: number;
  /** Bytes the entries may take, each counted as its key, its value (`sizeOf`) and ENTRY_OVERHEAD. */
  maxBytes: number;
  /** Entries at most, however small: a flood of tiny answers must not grow the Map without end. */
  maxEntries: number;
  sizeOf: (value: unknown) => number;
}

interface Flight<T> {
  promise: Promise<T>;
  waiters: number;
  controller: AbortController;
}

interface Entry<T> {
  at: number;
  value: T;
  size: number;
}

/** What an entry costs beyond its key and value: the Map slot, the entry object, its number fields. */
export const ENTRY_OVERHEAD = 96;

/** A string's bytes in V8 at most (two per UTF-16 unit). */
const keyBytes = (key: string) => key.length * 2;

/**
 * Answers reused for a short time, and computed once for all the requests that ask for the same key
 * at once. The computation is cancelled only when every request waiting for it has gone away.
 * Bounded by entries and by bytes; expired entries are dropped as time passes, not only when read again.
 */
export class SharedCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly flights = new Map<string, Flight<T>>();
  private used = 0;
  // Bumped by `clear`: an answer computed before it is not stored after it.
  private generation = 0;
  private readonly sweeper: NodeJS.Timeout | undefined;
  hits = 0;
  misses = 0;

  constructor(private readonly o: SharedCacheOptions) {
    if (o.ttlMs > 0) {
      // While idle nothing else would drop what has expired; unref'd so it never keeps the process up.
      this.sweeper = setInterval(() => this.evictExpired(Date.now()), Math.max(o.ttlMs, 1_000));
      this.sweeper.unref();
    }
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held now, as counted against `maxBytes`. */
  get bytes(): number {
    return this.used;
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.entries.clear();
    this.used = 0;
  }

  /** Whether answers are reused at all (a TTL over 0). */
  get enabled(): boolean {
    return this.o.ttlMs > 0;
  }

  /** Drops every answer, and keeps out those being computed now (the archive changed under them). */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.used = 0;
  }

  async get(key: string, signal: AbortSignal | undefined, compute: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.o.ttlMs <= 0) {
      this.misses++;
      return compute(signal ?? new AbortController().signal);
    }
    const now = Date.now();
    this.evictExpired(now);
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.o.ttlMs) {
      this.hits++;
      return hit.value;
    }
    this.misses++;
    return this.join(this.flights.get(key) ?? this.start(key, compute), signal);
  }

  private start(key: string, compute: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    const generation = this.generation;
    const f: Flight<T> = {
      waiters: 0,
      controller,
      promise: compute(controller.signal).then((value) => {
        if (generation === this.generation) this.store(key, value);
        return value;
      }),
    };
    f.promise.catch(() => undefined).finally(() => this.flights.delete(key));
    this.flights.set(key, f);
    return f;
  }

  private join(f: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
    f.waiters++;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const onAbort = () => {
        left = true;
        if (--f.waiters === 0) f.controller.abort();
        reject(new AbortedError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      f.promise.then(
        (v) => {
          signal?.removeEventListener("abort", onAbort);
          if (!left) resolve(v);
        },
        (err: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          if (!left) reject(err);
        },
      );
    });
  }

  /** Entries are kept in the order they were stored and share one TTL, so the expired ones lead the Map. */
  private evictExpired(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.at < this.o.ttlMs) break;
      this.remove(k, e);
    }
  }

  private remove(key: string, e: Entry<T>): void {
    this.entries.delete(key);
    this.used -= e.size;
  }

  private store(key: string, value: T): void {
    // Nothing found is not kept: it may be archived any moment.
    if (value === null || value === undefined) return;
    const size = keyBytes(key) + this.o.sizeOf(value) + ENTRY_OVERHEAD;
    if (size > this.o.maxBytes || this.o.maxEntries < 1) return;
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    this.entries.set(key, { at: Date.now(), value, size });
    this.used += size;
    // The oldest go first.
    for (const [k, e] of this.entries) {
      if (this.used <= this.o.maxBytes && this.entries.size <= this.o.maxEntries) break;
      this.remove(k, e);
    }
  }
}
