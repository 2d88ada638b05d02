/** The simulator's one source of time, in Unix milliseconds. */
export interface Clock {
  now(): number;
  /** Moves time forward (never backward). */
  advance(ms: number): void;
  /** Jumps to a time at or after the current one. */
  set(ms: number): void;
  readonly kind: "virtual" | "real";
}

/** Time that moves only when a test says so. */
export class VirtualClock implements Clock {
  readonly kind = "virtual";
  #now: number;
  constructor(start: number) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance by ${ms} ms`);
    this.#now += ms;
  }
  set(ms: number): void {
    if (!(ms >= this.#now)) throw new RangeError("time only moves forward");
    this.#now = ms;
  }
}

/** Wall-clock time, optionally sped up; a jump adds a fixed offset. */
export class RealClock implements Clock {
  readonly kind = "real";
  readonly #wallStart: number;
  #virtualStart: number;
  constructor(
    readonly speed = 1,
    start = Date.now(),
    private readonly wall: () => number = Date.now,
  ) {
    if (!(speed > 0)) throw new RangeError(`speed must be positive, got ${speed}`);
    this.#wallStart = wall();
    this.#virtualStart = start;
  }
  now(): number {
    return Math.floor(this.#virtualStart + (this.wall() - this.#wallStart) * this.speed);
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance by ${ms} ms`);
    this.#virtualStart += ms;
  }
  set(ms: number): void {
    const now = this.now();
    if (!(ms >= now)) throw new RangeError("time only moves forward");
    this.#virtualStart += ms - now;
  }
}

/** Start of the first mute run strictly after `t`: runs sit on multiples of the interval since the epoch. */
export function nextBoundaryAfter(t: number, intervalMs: number): number {
  return (Math.floor(t / intervalMs) + 1) * intervalMs;
}
