import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "@vod/log";

export interface OpsServerOptions {
  port: number;
  host?: string;
  log: Logger;
  registry: Registry;
  /** Healthy when every check resolves true; /healthz names the failing ones. */
  checks?: Record<string, () => boolean | Promise<boolean>>;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/** A registry with the process metrics every service reports. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `/healthz` and Prometheus `/metrics` for one service. */
export async function startOpsServer({
  port,
  host = "127.0.0.1",
  log,
  registry,
  checks = {},
}: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === "GET" && req.url === "/metrics") {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(await registry.metrics());
          return;
        }
        if (req.method === "GET" && req.url === "/healthz") {
          const results = await Promise.all(
            Object.entries(checks).map(
              async ([name, check]) => [name, await Promise.resolve(check()).catch(() => false)] as const,
            ),
          );
          const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
          res.writeHead(failing.length === 0 ? 200 : 503, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: failing.length === 0, failing }));
          return;
        }
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `no route ${req.method} ${req.url}; try GET /healthz or GET /metrics` }));
      } catch (err) {
        log.error({ err }, "ops request failed");
        res.writeHead(500).end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  const url = `http://${host}:${bound}`;
  log.info({ url }, "ops server listening");
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
