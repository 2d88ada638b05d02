/**
 * The soak's processes: the simulator and every service instance, each its own node process with
 * its log under .infra/soak/. Acts as their supervisor: a process that exits (kill -9 included) is
 * started again after a second, as systemd or Kubernetes would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import { nodeArgs, stopChild } from "@vod/cli";

export interface ProcessSpec {
  /** Unique, e.g. "delay-1". */
  name: string;
  /** The group its RSS is reported under, e.g. "delay". */
  service: string;
  script: string;
  args?: string[];
  env: Record<string, string>;
  /**
   * Scheduling priority (nice, -20..19), where the host allows it: the simulator stands for Twitch's
   * servers, which do not share two cores with the system under test.
   */
  priority?: number;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  restarts: number;
  rssMaxMb: number;
}

export class Cluster {
  readonly #procs = new Map<string, Running>();
  #stopping = false;
  readonly #logDir: string;
  readonly #sampler: NodeJS.Timeout;

  constructor(
    private readonly root: string,
    private readonly baseEnv: Record<string, string | undefined>,
    private readonly note: (line: string) => void,
  ) {
    this.#logDir = join(root, ".infra/soak");
    mkdirSync(this.#logDir, { recursive: true });
    this.#sampler = setInterval(() => this.#sampleRss(), 2_000);
    this.#sampler.unref();
    // Children run in process groups of their own, so Ctrl-C reaches only this process: a run stopped
    // by a signal takes them down as it exits, rather than leaving the simulator on its port.
    process.once("exit", this.#killAll);
    process.once("SIGINT", this.#exitOnSignal);
    process.once("SIGTERM", this.#exitOnSignal);
  }

  readonly #killAll = () => {
    for (const p of this.#procs.values())
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  };

  readonly #exitOnSignal = (signal: NodeJS.Signals) => {
    this.note(`${signal}: stopping every process of the run`);
    process.exit(130);
  };

  start(spec: ProcessSpec): void {
    const existing = this.#procs.get(spec.name);
    const out = createWriteStream(join(this.#logDir, `${spec.name}.log`), { flags: "a" });
    const child = spawn(process.execPath, nodeArgs(this.root, spec.script, spec.args ?? []), {
      cwd: this.root,
      env: { ...this.baseEnv, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    if (spec.priority !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, spec.priority);
      } catch (err) {
        this.note(
          `${spec.name}: priority ${spec.priority} not allowed here (${(err as Error).message}); left as it is`,
        );
      }
    }
    const running: Running = {
      spec,
      child,
      restarts: existing ? existing.restarts + 1 : 0,
      rssMaxMb: existing?.rssMaxMb ?? 0,
    };
    this.#procs.set(spec.name, running);
    child.on("exit", (code, signal) => {
      if (this.#stopping || this.#procs.get(spec.name)?.child !== child) return;
      this.note(`${spec.name} exited (${signal ?? code}); restarting it`);
      setTimeout(() => {
        if (!this.#stopping) this.start(spec);
      }, 1_000).unref();
    });
  }

  /** Stops one process (SIGTERM, then SIGKILL after 15 s) and starts it again with `env` added. */
  async restart(name: string, env: Record<string, string>): Promise<void> {
    const p = this.#procs.get(name);
    if (!p) throw new Error(`no process ${name}`);
    const { child, spec } = p;
    // Taken out of supervision first, so its exit does not start the old spec again.
    this.#procs.delete(name);
    await stopChild(child);
    this.start({ ...spec, env: { ...spec.env, ...env } });
    const restarted = this.#procs.get(name);
    if (restarted) restarted.rssMaxMb = p.rssMaxMb;
  }

  /** kill -9 of one process; the supervisor starts it again. */
  kill9(name: string): void {
    this.#procs.get(name)?.child.kill("SIGKILL");
  }

  names(service?: string): string[] {
    return [...this.#procs.values()]
      .filter((p) => service === undefined || p.spec.service === service)
      .map((p) => p.spec.name);
  }

  /** Peak RSS per service (its largest instance), MB. */
  rss(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.#procs.values()) out[p.spec.service] = Math.max(out[p.spec.service] ?? 0, p.rssMaxMb);
    return out;
  }

  restarts(): Record<string, number> {
    return Object.fromEntries([...this.#procs.values()].map((p) => [p.spec.name, p.restarts]));
  }

  #sampleRss(): void {
    for (const p of this.#procs.values()) {
      const pid = p.child.pid;
      if (pid === undefined || p.child.exitCode !== null) continue;
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        p.rssMaxMb = Math.max(p.rssMaxMb, Math.round(kb / 1024));
      } catch {
        // exited between the check and the read
      }
    }
  }

  /** Stops everything, upstream first so downstream stages can drain; kills what does not stop in 15 s. */
  async stop(order: readonly string[]): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#sampler);
    process.off("SIGINT", this.#exitOnSignal);
    process.off("SIGTERM", this.#exitOnSignal);
    const rank = (p: Running) => {
      const i = order.indexOf(p.spec.service);
      return i < 0 ? order.length : i;
    };
    for (const p of [...this.#procs.values()].sort((a, b) => rank(a) - rank(b))) await stopChild(p.child);
    process.off("exit", this.#killAll);
  }
}
