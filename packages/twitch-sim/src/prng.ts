/** Small, fast, seedable generators: the world must be the same for the same seed. */

/** 32-bit integer mix (a finaliser in the style of murmur3), for hashing ids and ticks together. */
export function mix32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul(p | 0, 0xcc9e2d51) ^ Math.imul(Math.floor(p / 4294967296) | 0, 0x1b873593);
    k = (k << 15) | (k >>> 17);
    h = Math.imul(h ^ k, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A number in [0, 1) determined by the parts. */
export function hashUnit(...parts: number[]): number {
  return mix32(...parts) / 4294967296;
}

/** mulberry32: one generator per streamer, so each timeline is independent of the others. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  /** Standard normal, Box-Muller. */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
