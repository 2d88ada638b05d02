import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@vod/log";
import type { OpsServer } from "@vod/service";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { createReadPool } from "./db.ts";
import { startApiOps } from "./ops.ts";
import { testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
let ops: OpsServer;
const registry = new Registry();
const log = createLogger({ service: "api", level: "silent" });

beforeAll(async () => {
  tdb = await freshDatabase();
  // Counts are compared exactly: a loaded machine must not shed one of the two requests.
  api = await testApi(tdb.url, { registry, maxEventLoopDelayMs: 60_000 });
  ops = await startApiOps({ port: 0, host: "127.0.0.1", log, registry, db: api.db });
});
afterAll(async () => {
  await ops?.close();
  await api?.close();
  await tdb?.drop();
});

describe("the ops port", () => {
  it("reports health and Prometheus metrics: responses by route and status, shed requests, cache use", async () => {
    const health = await fetch(`${ops.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, failing: [] });
    await api.app.inject({ method: "GET", url: "/all/public" });
    await api.app.inject({ method: "GET", url: "/all/nothing" });
    const res = await fetch(`${ops.url}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('api_responses_total{route="/all/:visibility",status="200"} 1');
    expect(body).toContain('api_responses_total{route="/all/:visibility",status="400"} 1');
    expect(body).toMatch(/api_cache_requests\{cache="list",result="miss"\} \d+/);
    expect(body).toMatch(/api_cache_entries\{cache="list"\} \d+/);
    // Not on the public port.
    for (const url of ["/healthz", "/metrics"])
      expect((await api.app.inject({ method: "GET", url })).statusCode).toBe(404);
  });

  it("turns red, naming postgres, when the database does not answer", async () => {
    const dead = createReadPool({
      url: "postgres://vod:vod@127.0.0.1:1/vod",
      max: 1,
      queueMax: 4,
      acquireTimeoutMs: 500,
      statementTimeoutMs: 500,
    });
    const red = await startApiOps({ port: 0, host: "127.0.0.1", log, registry: new Registry(), db: dead });
    try {
      const res = await fetch(`${red.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ok: false, failing: ["postgres"] });
    } finally {
      await red.close();
      await dead.close();
    }
  });
});
