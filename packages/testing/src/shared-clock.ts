// One compressed clock for the simulator and the services a test starts, so that simulated minutes
// pass alike for all of them.
import { scaledClock, type Clock } from "@vod/clock";
import { startSimulator, type Simulator, type SimulatorOptions } from "@vod/twitch-sim";

export interface SharedClock {
  clock: Clock;
  speed: number;
  originMs: number;
  realOriginMs: number;
  /** The environment that puts a service on this clock. */
  env: Record<string, string>;
  /** Clock time of a real epoch-ms instant (e.g. a broker timestamp). */
  at(realMs: number): number;
}

export function sharedClock(speed: number, originMs = Date.UTC(2025, 0, 6, 12, 0, 0)): SharedClock {
  const realOriginMs = Date.now();
  const clock = scaledClock({ originMs, realOriginMs, speed });
  return {
    clock,
    speed,
    originMs,
    realOriginMs,
    env: {
      CLOCK_SPEED: String(speed),
      CLOCK_ORIGIN: new Date(originMs).toISOString(),
      CLOCK_REAL_ORIGIN: new Date(realOriginMs).toISOString(),
    },
    at: (realMs) => originMs + (realMs - realOriginMs) * speed,
  };
}

/** The simulator on the shared clock (it cannot be moved by hand then). */
export function simulatorOn(
  shared: SharedClock,
  options: Omit<SimulatorOptions, "clock" | "speed">,
): Promise<Simulator> {
  const refuse = () => {
    throw new Error("the shared test clock only runs forward on its own");
  };
  return startSimulator({
    ...options,
    clock: { kind: "real", now: () => Math.floor(shared.clock.now()), advance: refuse, set: refuse },
  });
}

/** Resolves once the shared clock has reached `t`. */
export async function untilClock(shared: SharedClock, t: number): Promise<void> {
  const wait = shared.clock.realDelay(t - shared.clock.now());
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** A clock that reads the simulator's own (hand-moved) time and waits in real time. */
export const simulatorClock = (sim: Simulator): Clock => ({ now: () => sim.clock.now(), realDelay: (ms) => ms });

/** A shared clock at `speed` and the simulator on it; `t0` is the clock's time before the simulator started. */
export async function sharedWorld(
  speed: number,
  options: Omit<SimulatorOptions, "clock" | "speed">,
): Promise<{ shared: SharedClock; t0: number; sim: Simulator }> {
  const shared = sharedClock(speed);
  const t0 = shared.clock.now();
  return { shared, t0, sim: await simulatorOn(shared, options) };
}
