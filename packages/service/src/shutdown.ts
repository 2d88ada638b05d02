import type { Logger } from "@vod/log";

export interface Shutdown {
  /** Registers a step; steps run in the order added (stop consuming first, close pools last). */
  add(name: string, step: () => Promise<void>): void;
  /** Runs the steps once, as a signal would; resolves when all are done. */
  run(reason: string): Promise<void>;
  /** Fires when shutdown begins; pass it to long work so it can give up. */
  signal: AbortSignal;
}

export interface ShutdownOptions {
  log: Logger;
  /** Past this the process exits non-zero, whatever is still running. */
  timeoutMs?: number;
  /** Exit the process after the steps (services: yes; tests: no). */
  exit?: boolean;
}

/**
 * SIGTERM/SIGINT: stop taking work, let in-flight work finish or be abandoned, flush, close, exit 0.
 * A second signal or the timeout forces exit.
 */
export function onShutdown({ log, timeoutMs = 30_000, exit = true }: ShutdownOptions): Shutdown {
  const steps: { name: string; step: () => Promise<void> }[] = [];
  const controller = new AbortController();
  let running: Promise<void> | undefined;

  const run = (reason: string) => {
    running ??= (async () => {
      log.info({ reason }, "shutting down");
      controller.abort();
      const timer = setTimeout(() => {
        log.error({ timeoutMs }, "shutdown timed out; forcing exit");
        if (exit) process.exit(1);
      }, timeoutMs);
      timer.unref();
      let failed = false;
      for (const { name, step } of steps) {
        try {
          await step();
        } catch (err) {
          failed = true;
          log.error({ err, step: name }, "shutdown step failed");
        }
      }
      clearTimeout(timer);
      log.info("shutdown complete");
      if (exit) process.exit(failed ? 1 : 0);
    })();
    return running;
  };

  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => {
      if (running) {
        log.warn({ signal: sig }, "second signal; exiting now");
        process.exit(130);
      }
      void run(sig);
    });
  }

  return { add: (name, step) => void steps.push({ name, step }), run, signal: controller.signal };
}
