import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { restartSummary, supervise, type Death } from "./supervise.ts";

const node = (code: string) => () => spawn(process.execPath, ["-e", code], { stdio: "ignore" });
const until = async (check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("supervise", () => {
  it("restarts a process that exits non-zero, reporting each death, with a wait that doubles", async () => {
    const deaths: (Death & { at: number })[] = [];
    const s = supervise("writer", node("process.exit(3)"), { initialMs: 100, maxMs: 400, stableMs: 60_000 }, (d) =>
      deaths.push({ ...d, at: Date.now() }),
    );
    await until(() => deaths.length >= 4);
    await s.stop();
    expect(
      deaths.slice(0, 4).map(({ name, status, restart, delayMs }) => ({ name, status, restart, delayMs })),
    ).toEqual([
      { name: "writer", status: "3", restart: 1, delayMs: 100 },
      { name: "writer", status: "3", restart: 2, delayMs: 200 },
      { name: "writer", status: "3", restart: 3, delayMs: 400 },
      { name: "writer", status: "3", restart: 4, delayMs: 400 },
    ]);
    // Each wait was kept: the next death came no sooner than the wait before it.
    for (let i = 1; i < 4; i++)
      expect(deaths[i]!.at - deaths[i - 1]!.at).toBeGreaterThanOrEqual(deaths[i - 1]!.delayMs);
    expect(s.restarts).toBeGreaterThanOrEqual(3);
    expect(restartSummary([s])).toBe(`writer ${s.restarts}`);
  });

  it("restarts a process killed by a signal, and a run that lasted resets the wait", async () => {
    const deaths: Death[] = [];
    const s = supervise(
      "api",
      node("setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300)"),
      { initialMs: 50, maxMs: 1_000, stableMs: 200 },
      (d) => deaths.push(d),
    );
    await until(() => deaths.length >= 3);
    await s.stop();
    expect(deaths.slice(0, 3).map((d) => [d.status, d.delayMs])).toEqual([
      ["SIGKILL", 50],
      ["SIGKILL", 50],
      ["SIGKILL", 50],
    ]);
  });

  it("stops restarting once stopped, and stops the running process", async () => {
    const deaths: Death[] = [];
    const s = supervise("delay", node("setInterval(() => {}, 1000)"), { initialMs: 10, maxMs: 10, stableMs: 1 }, (d) =>
      deaths.push(d),
    );
    await until(() => s.child.pid !== undefined);
    const first = s.child;
    expect(await s.stop()).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(first.signalCode).toBe("SIGTERM");
    expect(deaths).toEqual([]);
    expect(s.restarts).toBe(0);
    expect(restartSummary([s])).toBe("");
  });
});
