import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { nodeArgs } from "./launch.ts";
import { DEMO_RESTART, supervise, type Supervised } from "./supervise.ts";

/**
 * The processes the demo started, each supervised and logging to .infra/demo/<name>.log. A process
 * that dies is started again after a backoff, as compose's restart policy would; its restarts
 * append to the same log.
 */
export class DemoProcesses {
  readonly children: Supervised[] = [];
  readonly #logDir: string;

  constructor(
    private readonly o: {
      root: string;
      print: (line: string) => void;
      /** Environment handed to the processes it starts. */
      env: Record<string, string | undefined>;
    },
  ) {
    this.#logDir = join(o.root, ".infra/demo");
    mkdirSync(this.#logDir, { recursive: true });
  }

  /** Starts `script` (relative to the root) with node as `name`, and keeps it running until `stop()`. */
  start(name: string, script: string, args: string[], env: Record<string, string>): void {
    const { root, print } = this.o;
    const out = createWriteStream(join(this.#logDir, `${name}.log`));
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, nodeArgs(root, script, args), {
        cwd: root,
        env: { ...this.o.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group: Ctrl-C reaches the demo alone, which then stops each child in order.
        detached: true,
      });
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      return child;
    };
    this.children.push(
      supervise(name, start, DEMO_RESTART, (d) =>
        print(
          `${name} exited (${d.status}); restart ${d.restart} in ${d.delayMs / 1000}s; its log: .infra/demo/${name}.log`,
        ),
      ),
    );
  }

  /** Stops every process, the last started first. */
  async stop(): Promise<void> {
    // Upstream first, so downstream stages can drain what was handed to them.
    for (const s of [...this.children].reverse()) {
      if (await s.stop()) this.o.print(`${s.name} did not stop in 15 s; killed it`);
    }
  }
}
