// Services started as their own processes, as production runs them: for kill -9 and for exit codes.
import { spawn, type ChildProcess } from "node:child_process";
import { expect } from "vitest";
import { childEnv } from "./env.ts";
import { sleep } from "./waits.ts";

export interface Child {
  child: ChildProcess;
  /** The signal that ended it, or its exit code. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** Undefined while it runs; then its exit code, or -1 when a signal ended it. */
  exitCode(): number | null | undefined;
  /** What it wrote to stdout and stderr, when started with `capture`; otherwise it goes to the test's own. */
  output: string[];
}

/**
 * Runs a TypeScript entry point (a service's main.ts) with `env` on top of the test's environment; a
 * key set to undefined is taken out of it.
 */
export function spawnMain(
  entry: string,
  env: Record<string, string | undefined>,
  opts: { capture?: boolean } = {},
): Child {
  const full = { ...childEnv({}), ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete full[k];
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: full,
    stdio: ["ignore", opts.capture ? "pipe" : "inherit", opts.capture ? "pipe" : "inherit"],
  });
  const output: string[] = [];
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  let code: number | null | undefined;
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (c, signal) => {
      code = c ?? (signal ? -1 : null);
      resolve(signal ?? c);
    }),
  );
  return { child, exited, exitCode: () => code, output };
}

/** Polls a process's /healthz until it exits (or `timeoutMs` passes): the statuses it answered, in order. */
export async function healthUntilExit(c: Child, port: number, timeoutMs: number): Promise<number[]> {
  const health: number[] = [];
  const t0 = Date.now();
  while (c.exitCode() === undefined && Date.now() - t0 < timeoutMs) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      health.push(res.status);
      await res.body?.cancel();
    } catch {
      // not listening yet, or gone
    }
    await sleep(100);
  }
  return health;
}

/** The process answers /healthz 503, then exits 1 by itself within `timeoutMs` (it is killed if not). */
export async function expectRedThenExit(main: Child, port: number, timeoutMs = 40_000): Promise<void> {
  try {
    const health = await healthUntilExit(main, port, timeoutMs);
    expect(main.exitCode()).toBe(1);
    expect(health).toContain(503);
    expect(await main.exited).toBe(1);
  } finally {
    if (main.exitCode() === undefined) main.child.kill("SIGKILL");
  }
}
