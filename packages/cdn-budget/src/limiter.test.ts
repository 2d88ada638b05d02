import net from "node:net";
import { describe, expect, inject, it } from "vitest";
import { startOpsServer, createRegistry } from "@vod/service";
import { testLog } from "@vod/testing";
import { RateLimiter } from "./limiter.ts";

/**
 * A TCP stand-in for Redis that forwards to the real one, until `silence()`: then it holds every
 * connection and never answers (a wedged Redis). `heal()` drops the held connections and forwards again.
 */
async function redisStandIn(redisUrl: string) {
  const target = new URL(redisUrl);
  let silent = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(Number(target.port), target.hostname);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
    };
    client.on("data", (d) => void (silent || upstream.write(d)));
    upstream.on("data", (d) => void (silent || client.write(d)));
    for (const s of [client, upstream]) {
      s.on("error", drop);
      s.on("close", drop);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    silence: () => void (silent = true),
    heal: () => {
      silent = false;
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function settleTime(p: Promise<unknown>): Promise<{ ms: number; ok: boolean }> {
  const t0 = performance.now();
  const ok = await p.then(
    () => true,
    () => false,
  );
  return { ms: performance.now() - t0, ok };
}

describe("RateLimiter", () => {
  it("spaces request starts by at least 1/rate, even when many are queued at once", async () => {
    const limiter = new RateLimiter({ perSecond: 20, floorPerSecond: 1, slackMsPerSecond: 0 });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, () => limiter.schedule(async () => void starts.push(performance.now()))),
    );
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // Timers may fire late, never early (1 ms of rounding slack).
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(49);
    await limiter.stop();
  });

  it("a 429 doubles the spacing (or honours Retry-After), successes shrink it slowly back, never past the floor", async () => {
    const limiter = new RateLimiter({ perSecond: 3, floorPerSecond: 0.5, slackMsPerSecond: 30 });
    expect(limiter.minTimeMs).toBe(344);
    limiter.rateLimited();
    expect(limiter.minTimeMs).toBe(688);
    limiter.rateLimited(1_500);
    expect(limiter.minTimeMs).toBe(1_500);
    limiter.rateLimited(60_000);
    expect(limiter.minTimeMs).toBe(2_000);
    limiter.succeeded();
    expect(limiter.minTimeMs).toBe(1_960);
    for (let i = 0; i < 200; i++) limiter.succeeded();
    expect(limiter.minTimeMs).toBe(344);
    await limiter.stop();
  });
});

describe("RateLimiter with a shared budget (Redis)", () => {
  const redisUrl = inject("redisUrl");

  async function starts(limiters: RateLimiter[], jobsEach: number): Promise<number[]> {
    const all: number[] = [];
    await Promise.all(
      limiters.flatMap((l) =>
        Array.from({ length: jobsEach }, () => l.schedule(async () => void all.push(performance.now()))),
      ),
    );
    return all.sort((a, b) => a - b);
  }

  it("two limiters with one id share one rate; with different ids each has its own", async () => {
    const id = `test-budget-${process.pid}-${Date.now()}`;
    const shared = [1, 2].map(() => new RateLimiter({ perSecond: 10, floorPerSecond: 1, cluster: { redisUrl, id } }));
    await Promise.all(shared.map((l) => l.ready()));
    expect(shared[0]!.clustered).toBe(true);
    const together = await starts(shared, 6);
    // 12 starts at 10 per second, whichever process made them: at least 1.1 s from first to last.
    expect(together.at(-1)! - together[0]!).toBeGreaterThanOrEqual(1_050);
    const gaps = together.slice(1).map((t, i) => t - together[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(60);

    const apart = [1, 2].map(
      (n) => new RateLimiter({ perSecond: 10, floorPerSecond: 1, cluster: { redisUrl, id: `${id}-${n}` } }),
    );
    await Promise.all(apart.map((l) => l.ready()));
    const separate = await starts(apart, 6);
    // Two budgets of 10 per second: 12 starts take about 0.55 s.
    expect(separate.at(-1)! - separate[0]!).toBeLessThan(900);
    await Promise.all([...shared, ...apart].map((l) => l.stop()));
  }, 20_000);

  it("timers that fire late together (a stalled event loop) still start one budget's requests minTime apart", async () => {
    const id = `test-late-${process.pid}-${Date.now()}`;
    const shared = [1, 2].map(() => new RateLimiter({ perSecond: 10, floorPerSecond: 1, cluster: { redisUrl, id } }));
    await Promise.all(shared.map((l) => l.ready()));
    const all: number[] = [];
    const done = Promise.all(
      shared.flatMap((l) => Array.from({ length: 3 }, () => l.schedule(async () => void all.push(performance.now())))),
    );
    // The jobs are planned (in Redis) and wait on their timers; a stall makes those timers late, so
    // they would fire back to back in both limiters.
    await new Promise((r) => setTimeout(r, 40));
    const until = performance.now() + 450;
    while (performance.now() < until);
    await done;
    all.sort((a, b) => a - b);
    const gaps = all.slice(1).map((t, i) => t - all[i]!);
    expect(Math.min(...gaps), JSON.stringify(gaps)).toBeGreaterThanOrEqual(80);
    await Promise.all(shared.map((l) => l.stop()));
  }, 20_000);

  it("a 429 or a success while Redis is away changes this process's spacing and leaves no rejection unhandled", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on("unhandledRejection", onUnhandled);
    const limiter = new RateLimiter({
      perSecond: 10,
      floorPerSecond: 1,
      cluster: { redisUrl, id: `away-${process.pid}-${Date.now()}` },
    });
    limiter.onError(() => {});
    try {
      await limiter.ready();
      // Its connection closed: every Redis command from here on fails.
      await limiter.stop();
      const base = limiter.minTimeMs;
      limiter.rateLimited();
      expect(limiter.minTimeMs).toBe(base * 2);
      limiter.succeeded();
      expect(limiter.minTimeMs).toBeLessThan(base * 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("an unreachable Redis fails ready() instead of running unlimited", async () => {
    const limiter = new RateLimiter({
      perSecond: 3,
      floorPerSecond: 1,
      cluster: { redisUrl: "redis://127.0.0.1:1", id: "nowhere" },
    });
    limiter.onError(() => {});
    await expect(limiter.ready(1_000)).rejects.toThrow(/Redis did not answer within 1000 ms/);
    await limiter.stop().catch(() => {});
  }, 15_000);

  it("a Redis that holds the connection and never answers fails a request's turn within the command timeout, turns /healthz red, and recovers", async () => {
    const standIn = await redisStandIn(redisUrl);
    const id = `test-wedged-${process.pid}-${Date.now()}`;
    const limiter = new RateLimiter({
      perSecond: 20,
      floorPerSecond: 1,
      cluster: { redisUrl: standIn.url, id, commandTimeoutMs: 300 },
    });
    limiter.onError(() => {});
    const registry = createRegistry("limiter-test");
    const ops = await startOpsServer({
      port: 0,
      log: testLog,
      registry,
      checks: { redis: () => limiter.responsive() },
    });
    const health = async () => (await fetch(`${ops.url}/healthz`)).status;
    try {
      await limiter.ready();
      expect(await limiter.schedule(async () => "through")).toBe("through");
      expect(await health()).toBe(200);

      standIn.silence();
      // Without a command timeout this wait never ends: every CDN request would stall behind it.
      const stalled = await settleTime(limiter.schedule(async () => "through"));
      expect(stalled.ok).toBe(false);
      expect(stalled.ms).toBeLessThan(2_000);
      expect(await limiter.responsive()).toBe(false);
      expect(await health()).toBe(503);

      standIn.heal();
      const t0 = Date.now();
      while (!(await limiter.responsive()) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
      expect(await limiter.schedule(async () => "again")).toBe("again");
      expect(await health()).toBe(200);
    } finally {
      await ops.close();
      await limiter.stop().catch(() => {});
      await standIn.close();
    }
  }, 30_000);

  it("an AbortSignal ends a request's wait at once, even while Redis does not answer, and the work never runs", async () => {
    const standIn = await redisStandIn(redisUrl);
    const id = `test-abort-${process.pid}-${Date.now()}`;
    const limiter = new RateLimiter({
      perSecond: 20,
      floorPerSecond: 1,
      cluster: { redisUrl: standIn.url, id, commandTimeoutMs: 10_000 },
    });
    limiter.onError(() => {});
    try {
      await limiter.ready();
      standIn.silence();
      let ran = false;
      const ac = new AbortController();
      const waiting = settleTime(limiter.schedule(async () => void (ran = true), undefined, ac.signal));
      setTimeout(() => ac.abort(new Error("deadline")), 100);
      const { ms, ok } = await waiting;
      expect(ok).toBe(false);
      expect(ms).toBeLessThan(400);
      expect(ran).toBe(false);
    } finally {
      standIn.heal();
      await limiter.stop().catch(() => {});
      await standIn.close();
    }
  }, 30_000);
});
