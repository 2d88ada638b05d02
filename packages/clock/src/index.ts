import { z } from "zod";

/** The one way services read time, so tests and the demo can run the world faster than the wall clock. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Real milliseconds to wait for `ms` of clock time to pass. */
  realDelay(ms: number): number;
}

export const systemClock: Clock = { now: () => Date.now(), realDelay: (ms) => ms };

export interface ScaledClockOptions {
  /** Clock time at the real moment `realOriginMs`. */
  originMs: number;
  realOriginMs: number;
  /** Clock milliseconds per real millisecond. */
  speed: number;
}

/**
 * Clock time that runs `speed` times faster than real time from a shared origin. Processes given the
 * same origin and speed agree on the time, so separately started services and the simulator stay in step.
 */
export function scaledClock(
  { originMs, realOriginMs, speed }: ScaledClockOptions,
  realNow: () => number = Date.now,
): Clock {
  return {
    now: () => originMs + (realNow() - realOriginMs) * speed,
    realDelay: (ms) => Math.max(0, ms / speed),
  };
}

/** A clock that moves only when told to (unit tests). */
export function manualClock(startMs: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = startMs;
  return { now: () => t, realDelay: () => 0, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

/** Environment fields of a service's clock; spread into its env schema. */
export const clockEnv = {
  CLOCK_SPEED: z.coerce.number().positive().default(1),
  /** Clock time at CLOCK_REAL_ORIGIN; both unset means the system clock. */
  CLOCK_ORIGIN: z.iso.datetime({ offset: true }).optional(),
  CLOCK_REAL_ORIGIN: z.iso.datetime({ offset: true }).optional(),
};

export function clockFromEnv(env: {
  CLOCK_SPEED: number;
  CLOCK_ORIGIN?: string | undefined;
  CLOCK_REAL_ORIGIN?: string | undefined;
}): Clock {
  if (env.CLOCK_SPEED === 1 && !env.CLOCK_ORIGIN) return systemClock;
  const realOriginMs = env.CLOCK_REAL_ORIGIN ? Date.parse(env.CLOCK_REAL_ORIGIN) : Date.now();
  return scaledClock({
    originMs: env.CLOCK_ORIGIN ? Date.parse(env.CLOCK_ORIGIN) : realOriginMs,
    realOriginMs,
    speed: env.CLOCK_SPEED,
  });
}
