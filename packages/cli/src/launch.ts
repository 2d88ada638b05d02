import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The node flags a service runs with: `nodeFlags` in its package.json (services/<name>/package.json),
 * for example a heap cap sized from the service's measured live heap. The demo, the soak and the
 * benchmarks launch through this; docker-compose.yml repeats the flags in its commands.
 */
export function serviceNodeFlags(root: string, script: string): string[] {
  const service = /^services\/([^/]+)\//.exec(script)?.[1];
  if (service === undefined) return [];
  const manifest = JSON.parse(readFileSync(join(root, "services", service, "package.json"), "utf8")) as {
    nodeFlags?: unknown;
  };
  const flags = manifest.nodeFlags ?? [];
  if (!Array.isArray(flags) || !flags.every((f): f is string => typeof f === "string" && f.startsWith("--"))) {
    throw new Error(`services/${service}/package.json: nodeFlags must be a list of "--flag" strings`);
  }
  return flags;
}

/** The arguments that start `script` (relative to `root`) with node, its flags and tsx's loader. */
export function nodeArgs(root: string, script: string, args: readonly string[] = []): string[] {
  return [...serviceNodeFlags(root, script), "--import", "tsx", join(root, script), ...args];
}

/** Resolves once `url` answers 2xx; rejects after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`; true if it had to be killed. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    new Promise<boolean>((r) => child.once("exit", () => r(true))),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!exited) child.kill("SIGKILL");
  return !exited;
}
