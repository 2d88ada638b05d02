import Fastify, { LogController, type FastifyInstance } from "fastify";
import underPressure from "@fastify/under-pressure";
import swagger from "@fastify/swagger";
import { jsonSchemaTransform, validatorCompiler } from "fastify-type-provider-zod";
import type { Logger } from "@vod/log";
import { Counter, Gauge, type Registry } from "prom-client";
import type { AppDeps, StoredPlaylist } from "./deps.ts";
import { SharedCache } from "./shared-cache.ts";
import { installErrorHandlers } from "./errors.ts";
import { securityHeaders } from "./security-headers.ts";
import { compatRoutes } from "./compat-routes.ts";
import { playlistRoute } from "./playlist-route.ts";
import { v1Routes } from "./v1-routes.ts";
import { webRoutes } from "./web-routes.ts";

export interface AppOptions extends Omit<AppDeps, "listCache" | "playlistCache"> {
  /** How long a list answer is reused (0: never); bytes and entries the reused answers may take. */
  listCacheTtlMs?: number;
  listCacheBytes?: number;
  listCacheEntries?: number;
  /** How long an archived playlist is kept in memory (0: never); bytes and entries they may take. */
  playlistCacheTtlMs?: number;
  playlistCacheBytes?: number;
  playlistCacheEntries?: number;
  log: Logger | false;
  registry: Registry;
  /** Event-loop delay (ms) above which requests are shed. */
  maxEventLoopDelayMs: number;
  /** Requests allowed to wait for a database connection; more and requests are shed. */
  dbQueueMax: number;
  retryAfterSeconds: number;
  /** How often the pool's wait queue is sampled for shedding (ms). */
  pressureSampleMs?: number;
}

/** The API: compatible routes, the playlist, the v1 API with its OpenAPI document, the web page (/healthz and /metrics: ops.ts). */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.log === false ? undefined : o.log,
    // Routes answer from a small query; a client that trickles its request must not hold a socket.
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
    return503OnClosing: true,
    // A line per request would cost more than the request at thousands a second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  // Answers are built from typed rows; the zod response schemas document them (OpenAPI) and the tests check them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const shed = new Counter({
    name: "api_requests_shed_total",
    help: "Requests answered 503 because the API was overloaded",
    labelNames: ["reason"],
    registers: [o.registry],
  });
  const answered = new Counter({
    name: "api_responses_total",
    help: "Responses by route and status",
    labelNames: ["route", "status"],
    registers: [o.registry],
  });

  app.decorateRequest("clientSignal", null as unknown as AbortSignal);
  app.addHook("onRequest", async (req, reply) => {
    const controller = new AbortController();
    req.clientSignal = controller.signal;
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
  });
  app.addHook("onResponse", async (req, reply) => {
    answered.inc({ route: req.routeOptions.url ?? "unknown", status: String(reply.statusCode) });
    if (reply.statusCode === 503) shed.inc({ reason: "overloaded" });
  });

  securityHeaders(app);
  installErrorHandlers(app, o.retryAfterSeconds);

  const deps: AppDeps = {
    ...o,
    listCache: new SharedCache<Buffer>({
      ttlMs: o.listCacheTtlMs ?? 0,
      maxBytes: o.listCacheBytes ?? 8 * 1024 * 1024,
      maxEntries: o.listCacheEntries ?? 10_000,
      sizeOf: (v) => (v as Buffer).length,
    }),
    playlistCache: new SharedCache<StoredPlaylist | null>({
      ttlMs: o.playlistCacheTtlMs ?? 0,
      maxBytes: o.playlistCacheBytes ?? 8 * 1024 * 1024,
      maxEntries: o.playlistCacheEntries ?? 2_000,
      sizeOf: (v) => (v as StoredPlaylist).gz.length,
    }),
  };
  app.addHook("onClose", async () => {
    deps.listCache.close();
    deps.playlistCache.close();
  });
  const caches = [
    ["list", deps.listCache],
    ["playlist", deps.playlistCache],
  ] as const;
  new Gauge({
    name: "api_cache_requests",
    help: "Requests answered from a cache (hit) or that computed or waited for an answer (miss), by cache",
    labelNames: ["cache", "result"],
    registers: [o.registry],
    collect() {
      for (const [cache, c] of caches) {
        this.set({ cache, result: "hit" }, c.hits);
        this.set({ cache, result: "miss" }, c.misses);
      }
    },
  });
  new Gauge({
    name: "api_cache_entries",
    help: "Answers held by a cache",
    labelNames: ["cache"],
    registers: [o.registry],
    collect() {
      for (const [cache, c] of caches) this.set({ cache }, c.size);
    },
  });
  new Gauge({
    name: "api_cache_bytes",
    help: "Bytes held by a cache, keys included",
    labelNames: ["cache"],
    registers: [o.registry],
    collect() {
      for (const [cache, c] of caches) this.set({ cache }, c.bytes);
    },
  });

  await app.register(underPressure, {
    maxEventLoopDelay: o.maxEventLoopDelayMs,
    sampleInterval: o.pressureSampleMs ?? 100,
    // The pool's wait queue, sampled: while it is full every new request is refused at once.
    healthCheck: async () => o.db.waiting() < o.dbQueueMax,
    healthCheckInterval: o.pressureSampleMs ?? 100,
    retryAfter: o.retryAfterSeconds,
    pressureHandler: (_req, reply, type) => {
      void reply
        .code(503)
        .header("retry-after", String(o.retryAfterSeconds))
        .send({ error: "Service Unavailable", message: `overloaded (${type}); retry later` });
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "VOD archive API",
        version: "1.0.0",
        description: "Archived Twitch VODs: compatible routes, the v1 API and the playlists.",
      },
    },
    transform: jsonSchemaTransform,
  });

  compatRoutes(app, deps);
  playlistRoute(app, deps);
  v1Routes(app, deps);
  webRoutes(app);

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.ready();
  // Start-up work blocks the loop; the first delay sample after it has no measurement and reads as infinite,
  // which would shed the first requests. Serve once a full sample has been taken.
  await new Promise((resolve) => setTimeout(resolve, 2 * (o.pressureSampleMs ?? 100) + 20));
  return app;
}
