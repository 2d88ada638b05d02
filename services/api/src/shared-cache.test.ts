import { request as httpRequest } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { createReadPool, type ReadPool } from "./db.ts";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
let reads = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const start = "2026-11-01T00:00:00Z";

beforeAll(async () => {
  tdb = await freshDatabase();
  await insertVods(tdb.pool, [{ streamId: 11, startTime: start, streamerId: 1, login: "cached" }]);
  const real = createReadPool({
    url: tdb.url,
    max: 4,
    queueMax: 32,
    acquireTimeoutMs: 5_000,
    statementTimeoutMs: 10_000,
  });
  const counting: ReadPool = { ...real, read: (text, values, signal) => (reads++, real.read(text, values, signal)) };
  api = await testApi(tdb.url, { db: counting, listCacheTtlMs: 60_000, playlistCacheTtlMs: 60_000 });
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

async function activeApiQueries(): Promise<number> {
  const { rows } = await tdb.pool.query(
    "select count(*)::int as n from pg_stat_activity where application_name = 'api' and state = 'active' and datname = current_database()",
  );
  return rows[0].n as number;
}

describe("shared answers", () => {
  it("computes a list once for requests that arrive together, then reuses it", async () => {
    reads = 0;
    const bodies = await Promise.all(
      Array.from({ length: 5 }, () => api.app.inject({ method: "GET", url: "/all/public" })),
    );
    expect(reads).toBe(1);
    expect(new Set(bodies.map((b) => b.body)).size).toBe(1);
    expect(bodies[0]!.json()).toHaveLength(1);
    await api.app.inject({ method: "GET", url: "/all/public" });
    expect(reads).toBe(1);
    await api.app.inject({ method: "GET", url: "/all/private" });
    expect(reads).toBe(2);
  });

  it("keeps an archived playlist in memory", async () => {
    reads = 0;
    const url = `/m3u8/11/${Date.parse(start) / 1000}/index.m3u8`;
    const [a, b] = [await api.app.inject({ method: "GET", url }), await api.app.inject({ method: "GET", url })];
    expect(a.statusCode).toBe(200);
    expect(b.rawPayload.equals(a.rawPayload)).toBe(true);
    expect(b.headers.etag).toBe(a.headers.etag);
    expect(reads).toBe(1);
  });

  it("cancels a shared query only when every client waiting for it has gone", async () => {
    const address = await api.app.listen({ host: "127.0.0.1", port: 0 });
    const lock = new pg.Client({ connectionString: tdb.url });
    await lock.connect();
    await lock.query("begin");
    await lock.query("lock table vods in access exclusive mode");
    try {
      const open = () => {
        const req = httpRequest(`${address}/channels/@cached`);
        req.on("error", () => undefined);
        req.end();
        return req;
      };
      const first = open();
      const second = open();
      for (let i = 0; i < 100 && (await activeApiQueries()) === 0; i++) await sleep(50);
      expect(await activeApiQueries()).toBe(1);
      first.destroy();
      await sleep(1_500);
      expect(await activeApiQueries()).toBe(1);
      second.destroy();
      for (let i = 0; i < 60 && (await activeApiQueries()) > 0; i++) await sleep(50);
      expect(await activeApiQueries()).toBe(0);
    } finally {
      await lock.query("commit");
      await lock.end();
    }
  });
});
