import { clockFromEnv } from "@vod/clock";
import { createLogger, redactUrl } from "@vod/log";
import { createRegistry, onShutdown } from "@vod/service";
import type { Counter } from "prom-client";
import { buildApp } from "./app.ts";
import { createReadPool } from "./db.ts";
import { readEnv } from "./env.ts";
import { startApiOps } from "./ops.ts";
import { limitInFlight } from "./overload.ts";

const env = readEnv();
const log = createLogger({ service: "api", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
const db = createReadPool({
  url: env.DATABASE_URL,
  max: env.DB_POOL_MAX,
  queueMax: env.DB_QUEUE_MAX,
  acquireTimeoutMs: env.DB_ACQUIRE_TIMEOUT,
  statementTimeoutMs: env.STATEMENT_TIMEOUT,
});
log.info({ db: redactUrl(env.DATABASE_URL), poolMax: env.DB_POOL_MAX, queueMax: env.DB_QUEUE_MAX }, "starting api");
const registry = createRegistry("api");
const app = await buildApp({
  log,
  db,
  clock: clockFromEnv(env),
  registry,
  aggregateTtlMs: env.AGGREGATE_TTL,
  listCacheTtlMs: env.LIST_CACHE_TTL,
  listCacheBytes: env.LIST_CACHE_MB * 1024 * 1024,
  listCacheEntries: env.LIST_CACHE_ENTRIES,
  playlistCacheTtlMs: env.PLAYLIST_CACHE_TTL,
  playlistCacheBytes: env.PLAYLIST_CACHE_MB * 1024 * 1024,
  playlistCacheEntries: env.PLAYLIST_CACHE_ENTRIES,
  playlistPlainMaxBytes: env.PLAYLIST_PLAIN_MAX_MB * 1024 * 1024,
  playlistGunzipConcurrency: env.PLAYLIST_GUNZIP_CONCURRENCY,
  maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY,
  dbQueueMax: env.DB_QUEUE_MAX,
  retryAfterSeconds: env.RETRY_AFTER_SECONDS,
});
const shed = registry.getSingleMetric("api_requests_shed_total") as Counter | undefined;
limitInFlight(app.server, {
  maxInFlight: env.MAX_IN_FLIGHT ?? env.DB_POOL_MAX + env.DB_QUEUE_MAX,
  retryAfterSeconds: env.RETRY_AFTER_SECONDS,
  onShed: () => shed?.inc({ reason: "in_flight" }),
});
const url = await app.listen({ host: env.HOST, port: env.PORT });
log.info({ url }, "api listening");
const ops = await startApiOps({ port: env.OPS_PORT, host: env.OPS_HOST, log, registry, db });
shutdown.add("http", () => app.close());
shutdown.add("ops", () => ops.close());
shutdown.add("postgres", () => db.close());
