import { request as httpRequest } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
const opened: TestApi[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  tdb = await freshDatabase();
  await insertVods(tdb.pool, [{ streamId: 1, startTime: "2026-11-01T00:00:00Z", streamerId: 1, login: "someone" }]);
});
afterAll(async () => {
  for (const a of opened) await a.close().catch(() => undefined);
  await tdb?.drop();
});

/** Makes every API query wait: another session holds an exclusive lock on the table until released. */
async function lockVods(): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: tdb.url });
  await c.connect();
  await c.query("begin");
  await c.query("lock table vods in access exclusive mode");
  return {
    async release() {
      await c.query("commit");
      await c.end();
    },
  };
}

async function activeApiQueries(): Promise<number> {
  const { rows } = await tdb.pool.query(
    "select count(*)::int as n from pg_stat_activity where application_name = 'api' and state = 'active' and datname = current_database()",
  );
  return rows[0].n as number;
}

describe("bounded under load", () => {
  it("refuses at once, with 503 and Retry-After, what the pool's queue cannot hold; serves what it holds", async () => {
    const api = await testApi(tdb.url, { poolMax: 1, dbQueueMax: 2, acquireTimeoutMs: 10_000, retryAfterSeconds: 2 });
    opened.push(api);
    const lock = await lockVods();
    const started = Date.now();
    const results = Array.from({ length: 20 }, async () => {
      const t0 = Date.now();
      const res = await api.app.inject({ method: "GET", url: "/all/public" });
      return {
        status: res.statusCode,
        ms: Date.now() - t0,
        retryAfter: res.headers["retry-after"],
        at: Date.now() - started,
      };
    });
    await sleep(300);
    // While the lock holds, the pool's full queue also turns under-pressure's health check: everything new is shed.
    const during = await api.app.inject({ method: "GET", url: "/channels/@someone" });
    expect(during.statusCode).toBe(503);
    expect(during.json().message).toMatch(/healthCheck/);
    await lock.release();
    const done = await Promise.all(results);
    const shed = done.filter((r) => r.status === 503);
    const served = done.filter((r) => r.status === 200);
    expect(served).toHaveLength(3); // one running, two waiting
    expect(shed).toHaveLength(17);
    for (const r of shed) {
      expect(r.retryAfter).toBe("2");
      expect(r.ms).toBeLessThan(250);
    }
    for (const r of served) expect(r.at).toBeGreaterThanOrEqual(300);
  });

  it("stops a statement past the statement timeout and answers 503", async () => {
    const api = await testApi(tdb.url, { statementTimeoutMs: 300 });
    opened.push(api);
    const lock = await lockVods();
    try {
      const t0 = Date.now();
      const res = await api.app.inject({ method: "GET", url: "/channels/@someone" });
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe("1");
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await lock.release();
    }
    expect((await api.app.inject({ method: "GET", url: "/channels/@someone" })).statusCode).toBe(200);
  });

  it("cancels the query in PostgreSQL when the client goes away", async () => {
    const api = await testApi(tdb.url);
    opened.push(api);
    const address = await api.app.listen({ host: "127.0.0.1", port: 0 });
    const lock = await lockVods();
    try {
      const req = httpRequest(`${address}/channels/@someone`);
      req.on("error", () => undefined);
      req.end();
      const deadline = Date.now() + 5_000;
      while ((await activeApiQueries()) === 0 && Date.now() < deadline) await sleep(50);
      expect(await activeApiQueries()).toBe(1);
      req.destroy();
      const gone = Date.now();
      while ((await activeApiQueries()) > 0 && Date.now() - gone < 5_000) await sleep(50);
      expect(await activeApiQueries()).toBe(0);
      expect(Date.now() - gone).toBeLessThan(3_000);
    } finally {
      await lock.release();
    }
  });

  it("sheds with 503 while the event loop is delayed, and serves again once it is not", async () => {
    const api = await testApi(tdb.url, { maxEventLoopDelayMs: 50, pressureSampleMs: 50 });
    opened.push(api);
    // A neighbour hogging the loop for 150 ms at a time, with a tick free between: under-pressure takes the
    // mean delay of each 50 ms sample, so a single long hog would show in one sample only, a window a loaded
    // machine can miss; a sustained hog keeps every sample over the limit while it lasts.
    let hogging = true;
    const hog = () => {
      const until = Date.now() + 150;
      while (Date.now() < until) {
        // busy
      }
      if (hogging) setTimeout(hog, 0);
    };
    setTimeout(hog, 0);
    const askUntil = Date.now() + 3_000;
    let shed = await api.app.inject({ method: "GET", url: "/channels/@someone" });
    while (shed.statusCode !== 503 && Date.now() < askUntil) {
      await sleep(5);
      shed = await api.app.inject({ method: "GET", url: "/channels/@someone" });
    }
    hogging = false;
    expect(shed.statusCode).toBe(503);
    expect(shed.json().message).toMatch(/eventLoopDelay/);
    await sleep(300);
    expect((await api.app.inject({ method: "GET", url: "/channels/@someone" })).statusCode).toBe(200);
  });
});
