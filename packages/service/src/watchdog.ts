import type { Logger } from "@vod/log";

export interface WatchdogOptions {
  /** What must stay alive (a consumer kafkajs may give up on); false means it will not come back. */
  alive: () => boolean;
  /** Why, in the fatal log line. */
  what: string;
  log: Logger;
  /** Called once, when `alive` first turns false; the process should exit non-zero soon after. */
  onFatal: (reason: string) => void;
  intervalMs?: number;
}

export interface Watchdog {
  /** The reason, once it fired. */
  readonly dead: string | undefined;
  /** On shutdown, before what it watches is stopped on purpose. */
  stop(): void;
}

/**
 * Watches something that can die without anyone awaiting it (kafkajs stops a consumer after a
 * non-retriable error, and nothing is consumed again), so the process exits to be restarted
 * instead of running on with nothing to do.
 */
export function watchdog({ alive, what, log, onFatal, intervalMs = 1_000 }: WatchdogOptions): Watchdog {
  let dead: string | undefined;
  const timer = setInterval(() => {
    if (alive()) return;
    clearInterval(timer);
    dead = `${what} stopped`;
    log.fatal({ reason: dead }, "cannot go on; exiting so it is restarted");
    onFatal(dead);
  }, intervalMs);
  timer.unref();
  return {
    get dead() {
      return dead;
    },
    stop: () => clearInterval(timer),
  };
}

/** How a process ends after a fatal report: /healthz answers 503 for `delayMs` (so probes see it), then exit 1. */
export function exitAfter(delayMs: number): () => void {
  return () => void setTimeout(() => process.exit(1), delayMs);
}
