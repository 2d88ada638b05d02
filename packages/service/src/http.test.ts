import { afterEach, describe, expect, it } from "vitest";
import { Counter } from "prom-client";
import { createLogger } from "@vod/log";
import { consumerMetrics, createRegistry, startOpsServer, type OpsServer } from "./index.ts";

const log = createLogger({ service: "test", level: "silent" });
let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("ops server", () => {
  it("serves Prometheus metrics with the service label", async () => {
    const registry = createRegistry("writer");
    new Counter({ name: "demo_total", help: "demo", registers: [registry] }).inc(3);
    consumerMetrics(registry)({
      topic: "t",
      partition: 1,
      lag: 7,
      size: 10,
      invalid: 2,
      durationMs: 40,
      outcome: "committed",
    });
    server = await startOpsServer({ port: 0, log, registry });
    const body = await (await fetch(`${server.url}/metrics`)).text();
    expect(body).toContain('demo_total{service="writer"} 3');
    expect(body).toContain('vod_messages_handled_total{topic="t",service="writer"} 8');
    expect(body).toContain('vod_messages_invalid_total{topic="t",service="writer"} 2');
    expect(body).toContain('vod_consumer_lag{topic="t",partition="1",service="writer"} 7');
  });

  it("answers 503 naming the failing checks, 200 when all pass", async () => {
    let kafkaUp = false;
    server = await startOpsServer({
      port: 0,
      log,
      registry: createRegistry("x"),
      checks: { kafka: () => kafkaUp, db: async () => true },
    });
    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, failing: ["kafka"] });
    kafkaUp = true;
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
