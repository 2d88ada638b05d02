import { request } from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { limitInFlight } from "./overload.ts";

interface Answer {
  status: number;
  retryAfter: string | undefined;
  ms: number;
}

function get(port: number, path: string, signal?: AbortSignal): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, signal }, (res) => {
      res.resume();
      res.once("end", () =>
        resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"], ms: performance.now() - t0 }),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

let app: FastifyInstance | undefined;
let release: (() => void)[] = [];
afterEach(async () => {
  // A failed test can leave requests held; closing waits for them.
  for (const r of release.splice(0)) r();
  await app?.close();
  app = undefined;
});

/** An app whose /slow answers only when told to, so requests stay in flight as long as the test wants. */
async function slowApp(maxInFlight: number) {
  const waiting: (() => void)[] = [];
  release = waiting;
  let handled = 0;
  app = Fastify();
  app.get("/slow", async () => {
    handled++;
    await new Promise<void>((r) => waiting.push(r));
    return { ok: true };
  });
  app.get("/fast", async () => ({ ok: true }));
  await app.ready();
  const inFlight = limitInFlight(app.server, { maxInFlight, retryAfterSeconds: 3 });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 5));
  };
  return { port, inFlight, waiting, handled: () => handled, until };
}

describe("limit on requests in flight", () => {
  it("answers a request over the limit 503 with Retry-After at once, without reaching the routes", async () => {
    const s = await slowApp(2);
    const held = [get(s.port, "/slow"), get(s.port, "/slow")];
    await s.until(() => s.waiting.length === 2);
    const refused = await Promise.all(Array.from({ length: 20 }, () => get(s.port, "/slow")));
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe("3");
      // Answered while the two in flight still wait: refused at once, not queued for a slot. The bound is loose
      // because the machine running tests is shared; the benchmark measures the refusal's latency under load.
      expect(r.ms).toBeLessThan(1_000);
    }
    expect(s.handled()).toBe(2);
    for (const release of s.waiting.splice(0)) release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    await s.until(() => s.inFlight() === 0);
    expect((await get(s.port, "/fast")).status).toBe(200);
  });

  it("gives the slot of a client that left before its answer back", async () => {
    const s = await slowApp(1);
    const gone = new AbortController();
    const left = get(s.port, "/slow", gone.signal).catch(() => "aborted");
    await s.until(() => s.waiting.length === 1);
    expect((await get(s.port, "/fast")).status).toBe(503);
    gone.abort();
    expect(await left).toBe("aborted");
    await s.until(() => s.inFlight() === 0);
    expect((await get(s.port, "/fast")).status).toBe(200);
    for (const release of s.waiting.splice(0)) release();
  });

  it("limits nothing at 0", async () => {
    const s = await slowApp(0);
    const held = Array.from({ length: 5 }, () => get(s.port, "/slow"));
    await s.until(() => s.waiting.length === 5);
    expect((await get(s.port, "/fast")).status).toBe(200);
    for (const release of s.waiting.splice(0)) release();
    await Promise.all(held);
  });
});
