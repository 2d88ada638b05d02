// Shared pieces of the delay and poller end-to-end tests: one compressed clock for the simulator and
// the services, services as child processes (for kill -9), and reading what a topic holds.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Kafka } from "kafkajs";
import { scaledClock, type Clock } from "@vod/clock";
import { readRange } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { childEnv, testEnv } from "@vod/testing";
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

export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Child {
  child: ChildProcess;
  exited: Promise<number | null>;
}

const MAIN = {
  delay: fileURLToPath(new URL("../main.ts", import.meta.url)),
  "live-poller": fileURLToPath(new URL("../../../live-poller/src/main.ts", import.meta.url)),
};

/** Starts a service's main.ts as its own process, as production would. */
export function spawnService(name: keyof typeof MAIN, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN[name]], {
    env: childEnv({ LOG_LEVEL: testEnv.TEST_LOG_LEVEL === "silent" ? "warn" : testEnv.TEST_LOG_LEVEL, ...env }),
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return { child, exited };
}

export interface Record_ {
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  /** Broker timestamp, real epoch ms. */
  timestamp: number;
}

/** Everything a topic holds right now, parsed as JSON. */
export async function readAll(kafka: Kafka, topic: string, log: Logger): Promise<Record_[]> {
  const out: Record_[] = [];
  await readRange(
    { kafka, topic, groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`, from: (_p, low) => low, log },
    (messages, partition) => {
      for (const m of messages) {
        out.push({
          partition,
          offset: m.offset,
          key: m.key?.toString() ?? null,
          value: m.value === null ? null : JSON.parse(m.value.toString("utf8")),
          timestamp: Number(m.timestamp),
        });
      }
    },
  );
  return out;
}

/**
 * What a pipeline's poller saw: the VOD keys (`streamId@startTime`) of its snapshots, and when its
 * first sweep read a page. Two pipelines whose pollers start a moment apart may differ in a VOD that
 * ended in between: only the first saw it.
 */
export async function sightings(
  kafka: Kafka,
  prefix: string,
  log: Logger,
): Promise<{ keys: Set<string>; firstAt: number }> {
  const snapshots = (await readAll(kafka, `${prefix}twitch.stream-snapshots`, log)).map(
    (r) => r.value as { streamId: string; startTime: string; observedAt: string },
  );
  return {
    keys: new Set(snapshots.map((s) => `${s.streamId}@${s.startTime}`)),
    firstAt: Math.min(...snapshots.map((s) => Date.parse(s.observedAt))),
  };
}
