import Fastify, { LogController, type FastifyInstance } from "fastify";
import { validatorCompiler } from "fastify-type-provider-zod";
import type { Clock } from "@vod/clock";
import type { Logger } from "@vod/log";
import type { Registry } from "prom-client";
import { answerCaches } from "./answer-caches.ts";
import { clientSignal } from "./client-signal.ts";
import { compatRoutes } from "./compat-routes.ts";
import type { ReadPool } from "./db.ts";
import { appDeps } from "./deps.ts";
import { errorHandling } from "./errors.ts";
import { findRoutes } from "./find-routes.ts";
import { ARCHIVE_ONLY, type FindOptions } from "./find-search.ts";
import { openapi } from "./openapi.ts";
import { playableChecks, type AskCheck } from "./playable.ts";
import { playlistRoute } from "./playlist-route.ts";
import { pressure } from "./pressure.ts";
import { responseMetrics } from "./response-metrics.ts";
import { securityHeaders } from "./security-headers.ts";
import { takedownWatch } from "./takedown-watch.ts";
import { v1Routes } from "./v1-routes.ts";
import { webRoutes } from "./web-routes.ts";

export interface AppOptions {
  db: ReadPool;
  /** The page's Find (absent: archive answers only, no CDN search). */
  find?: FindOptions;
  /** Fastify's trustProxy: whose forwarded address names the client (the Find limits are per client). */
  trustProxy?: boolean | number | string;
  clock: Clock;
  /** How long aggregates (/categories, /languages) are reused. */
  aggregateTtlMs: number;
  /** How long a list answer is reused (0: never); bytes and entries the reused answers may take. */
  listCacheTtlMs?: number;
  listCacheBytes?: number;
  listCacheEntries?: number;
  /** How long an archived playlist is kept in memory (0: never); bytes and entries they may take. */
  playlistCacheTtlMs?: number;
  playlistCacheBytes?: number;
  playlistCacheEntries?: number;
  /** Largest playlist decompressed for a client that refuses gzip (bytes); a larger one is answered 406. */
  playlistPlainMaxBytes?: number;
  /** Playlists decompressed at once; one more is answered 503, so their buffers cannot add up without bound. */
  playlistGunzipConcurrency?: number;
  log: Logger | false;
  registry: Registry;
  /** Event-loop delay (ms) above which requests are shed. */
  maxEventLoopDelayMs: number;
  /** Requests allowed to wait for a database connection; more and requests are shed. */
  dbQueueMax: number;
  retryAfterSeconds: number;
  /** How often the pool's wait queue is sampled for shedding (ms). */
  pressureSampleMs?: number;
  /** Where playable checks of opened VODs are asked for (absent: none are); a check older than the recheck age is redone. */
  askCheck?: AskCheck;
  playableRecheckAfterMs?: number;
}

/**
 * The API: compatible routes, the playlist, the v1 API with its OpenAPI document, the web page (/healthz
 * and /metrics: ops.ts). Cross-cutting concerns are plugins shared with the whole instance (fastify-plugin),
 * registered in the order their hooks run; the route groups are encapsulated plugins registered after them,
 * in the order the OpenAPI document lists their routes.
 */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.log === false ? undefined : o.log,
    // Routes answer from a small query; a client that trickles its request must not hold a socket.
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
    return503OnClosing: true,
    // A hop count is taken too (proxy-addr), though the option's type leaves it out.
    trustProxy: (o.trustProxy ?? false) as boolean | string,
    // A line per request would cost more than the request at thousands a second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  // Answers are built from typed rows; the zod response schemas document them (OpenAPI) and the tests check them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const sampleMs = o.pressureSampleMs ?? 100;

  app.register(appDeps, { db: o.db, clock: o.clock });
  app.register(clientSignal);
  app.register(responseMetrics, { registry: o.registry });
  app.register(securityHeaders);
  app.register(errorHandling, { retryAfterSeconds: o.retryAfterSeconds });
  app.register(answerCaches, {
    registry: o.registry,
    list: { ttlMs: o.listCacheTtlMs, maxBytes: o.listCacheBytes, maxEntries: o.listCacheEntries },
    playlist: { ttlMs: o.playlistCacheTtlMs, maxBytes: o.playlistCacheBytes, maxEntries: o.playlistCacheEntries },
  });
  app.register(takedownWatch);
  app.register(pressure, {
    maxEventLoopDelayMs: o.maxEventLoopDelayMs,
    dbQueueMax: o.dbQueueMax,
    retryAfterSeconds: o.retryAfterSeconds,
    sampleMs,
  });
  app.register(openapi);
  app.register(playableChecks, { ask: o.askCheck, recheckAfterMs: o.playableRecheckAfterMs ?? 86_400_000 });

  app.register(compatRoutes, { aggregateTtlMs: o.aggregateTtlMs });
  app.register(playlistRoute, {
    plainMaxBytes: o.playlistPlainMaxBytes,
    gunzipConcurrency: o.playlistGunzipConcurrency,
  });
  app.register(v1Routes, { prefix: "/v1" });
  app.register(findRoutes, { prefix: "/v1", ...(o.find ?? ARCHIVE_ONLY) });
  app.register(webRoutes);

  await app.ready();
  // Start-up work blocks the loop; the first delay sample after it has no measurement and reads as infinite,
  // which would shed the first requests. Serve once a full sample has been taken.
  await new Promise((resolve) => setTimeout(resolve, 2 * sampleMs + 20));
  return app;
}
