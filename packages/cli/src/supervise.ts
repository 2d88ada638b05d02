import type { ChildProcess } from "node:child_process";
import { stopChild } from "./launch.ts";

/** When a process that died is started again, as compose's `restart: unless-stopped` would. */
export interface RestartPolicy {
  /** The wait before the first restart; it doubles with each death in a row, up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /** A run at least this long was healthy: the next death waits `initialMs` again. */
  stableMs: number;
}

export const DEMO_RESTART: RestartPolicy = { initialMs: 1_000, maxMs: 30_000, stableMs: 60_000 };

export interface Death {
  name: string;
  /** The exit code, or the signal that ended it. */
  status: string;
  /** Which restart this will be (1 for the first). */
  restart: number;
  delayMs: number;
}

export interface Supervised {
  readonly name: string;
  /** The process running now (or the last one, while a restart waits). */
  readonly child: ChildProcess;
  /** Restarts so far. */
  readonly restarts: number;
  /** Stops restarting, then stops the process (SIGTERM, then SIGKILL); true if it had to be killed. */
  stop(): Promise<boolean>;
}

/**
 * Runs `start()` and starts it again whenever its process exits, however it exits, after a backoff;
 * each death is reported before the wait. Only `stop()` ends it.
 */
export function supervise(
  name: string,
  start: () => ChildProcess,
  policy: RestartPolicy,
  onDeath: (death: Death) => void,
): Supervised {
  let stopped = false;
  let restarts = 0;
  let inARow = 0;
  let timer: NodeJS.Timeout | undefined;
  let child: ChildProcess;

  const run = () => {
    const startedAt = Date.now();
    const current = start();
    child = current;
    let ended = false;
    const onEnd = (status: string) => {
      if (ended || stopped) return;
      ended = true;
      if (Date.now() - startedAt >= policy.stableMs) inARow = 0;
      const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(inARow, 30));
      inARow++;
      onDeath({ name, status, restart: restarts + 1, delayMs });
      timer = setTimeout(() => {
        timer = undefined;
        if (stopped) return;
        restarts++;
        run();
      }, delayMs);
    };
    current.once("exit", (code, signal) => onEnd(signal ?? String(code)));
    // A process that could not be started emits no exit (other errors, a failed kill, leave it running).
    current.once("error", (err) => {
      if (current.pid === undefined) onEnd(err.message);
    });
  };
  run();

  return {
    name,
    get child() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      return stopChild(child);
    },
  };
}

/** `writer 2, api 1`: the processes that were restarted, with their restarts; empty when none was. */
export function restartSummary(supervised: readonly Supervised[]): string {
  return supervised
    .filter((s) => s.restarts > 0)
    .map((s) => `${s.name} ${s.restarts}`)
    .join(", ");
}
