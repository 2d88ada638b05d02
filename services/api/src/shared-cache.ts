import { AbortedError } from "./db.ts";

export interface SharedCacheOptions {
  /** How long an answer is reused; 0 turns the cache off (every request computes its own). */
  ttlMs: number;
  /** Room, in the sizes `sizeOf` reports; the oldest entries go first. */
  capacity: number;
  sizeOf: (value: unknown) => number;
}

interface Flight<T> {
  promise: Promise<T>;
  waiters: number;
  controller: AbortController;
}

/**
 * Answers reused for a short time, and computed once for all the requests that ask for the same key
 * at once. The computation is cancelled only when every request waiting for it has gone away.
 */
export class SharedCache<T> {
  private readonly entries = new Map<string, { at: number; value: T; size: number }>();
  private readonly flights = new Map<string, Flight<T>>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly o: SharedCacheOptions) {}

  async get(key: string, signal: AbortSignal | undefined, compute: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.o.ttlMs <= 0) {
      this.misses++;
      return compute(signal ?? new AbortController().signal);
    }
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.o.ttlMs) {
      this.hits++;
      return hit.value;
    }
    this.misses++;
    let flight = this.flights.get(key);
    if (!flight) {
      const controller = new AbortController();
      const f: Flight<T> = {
        waiters: 0,
        controller,
        promise: compute(controller.signal).then((value) => {
          this.store(key, value);
          return value;
        }),
      };
      f.promise.catch(() => undefined).finally(() => this.flights.delete(key));
      this.flights.set(key, f);
      flight = f;
    }
    const f = flight;
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

  private store(key: string, value: T): void {
    // Nothing found is not kept: it may be archived any moment.
    if (value === null || value === undefined) return;
    const size = this.o.sizeOf(value);
    if (size > this.o.capacity) return;
    const old = this.entries.get(key);
    if (old) {
      this.used -= old.size;
      this.entries.delete(key);
    }
    this.entries.set(key, { at: Date.now(), value, size });
    this.used += size;
    for (const [k, e] of this.entries) {
      if (this.used <= this.o.capacity) break;
      this.entries.delete(k);
      this.used -= e.size;
    }
  }
}
