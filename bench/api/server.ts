/** The API as its own process pinned to core 1 (wrk has core 0; PostgreSQL shares both), and its RSS sampled every 100 ms. */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { nodeArgs } from "@vod/cli";
import { childEnv } from "../env.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** CPU seconds the process has used (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0; // exited
  }
}

export interface ApiProcess {
  base: string;
  pid: number;
  /** Largest RSS since the last call (MB), and the largest overall. */
  takePhaseRss(): number;
  rssMax(): number;
  /** Rejects if the API ends while measured: a crash must fail the benchmark, not hang it. */
  exited: Promise<never>;
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2_000) })
    .then((r) => r.ok)
    .catch(() => false);
}

export async function startApi(root: string, env: Record<string, string>): Promise<ApiProcess> {
  const [port, opsPort] = [await freePort(), await freePort()];
  // OPS_PORT: /healthz moves there; an API that does not know it still answers /healthz on PORT.
  const api: ChildProcess = spawn(
    "taskset",
    ["-c", "1", process.execPath, ...nodeArgs(root, "services/api/src/main.ts")],
    {
      cwd: root,
      env: childEnv({ ...env, PORT: String(port), OPS_PORT: String(opsPort), LOG_LEVEL: "warn" }),
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const pid = api.pid!;
  let stopping = false;
  const exited = new Promise<never>((_resolve, reject) =>
    api.once(
      "exit",
      (code, signal) => !stopping && reject(new Error(`the API exited (${signal ?? code}) while measured`)),
    ),
  );
  exited.catch(() => undefined);
  let phase = 0;
  let overall = 0;
  const sampler = setInterval(() => {
    const mb = rssMb(pid);
    phase = Math.max(phase, mb);
    overall = Math.max(overall, mb);
  }, 100);
  const base = `http://127.0.0.1:${port}`;
  const healthz = [`http://127.0.0.1:${opsPort}/healthz`, `${base}/healthz`];
  const healthy = async () => (await answers(healthz[0]!)) || answers(healthz[1]!);
  for (let waited = 0; !(await healthy()); waited += 200) {
    if (waited > 60_000 || api.exitCode !== null) {
      clearInterval(sampler);
      api.kill("SIGKILL");
      throw new Error("the API did not start");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    pid,
    exited,
    healthy,
    rssMax: () => overall,
    takePhaseRss: () => {
      const p = phase;
      phase = 0;
      return p;
    },
    async stop() {
      clearInterval(sampler);
      stopping = true;
      if (api.exitCode === null && api.signalCode === null) {
        api.kill("SIGTERM");
        await new Promise((r) => api.once("exit", r));
      }
    },
  };
}
