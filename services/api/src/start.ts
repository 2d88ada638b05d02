import { clockFromEnv } from "@vod/clock";
import { redactUrl, type Logger } from "@vod/log";
import { createRegistry, type OpsServer } from "@vod/service";
import type { FastifyInstance } from "fastify";
import type { Counter } from "prom-client";
import { buildApp } from "./app.ts";
import { kafkaCheckRequests } from "./check-requests.ts";
import { createReadPool, type ReadPool } from "./db.ts";
import type { ApiEnv } from "./env.ts";
import { findOptionsFromEnv } from "./find-search.ts";
import { startApiOps } from "./ops.ts";
import { limitInFlight } from "./overload.ts";

export interface StartedApi {
  app: FastifyInstance;
  ops: OpsServer;
  db: ReadPool;
  /** Disconnects the producer of check requests, if one was made. */
  stopChecks: () => Promise<void>;
}

/** Wires the API: the read pool, the app behind its in-flight limit on the public port, the ops server. */
export async function start(env: ApiEnv, log: Logger): Promise<StartedApi> {
  const db = createReadPool({
    url: env.DATABASE_URL,
    max: env.DB_POOL_MAX,
    queueMax: env.DB_QUEUE_MAX,
    acquireTimeoutMs: env.DB_ACQUIRE_TIMEOUT,
    statementTimeoutMs: env.STATEMENT_TIMEOUT,
  });
  log.info({ db: redactUrl(env.DATABASE_URL), poolMax: env.DB_POOL_MAX, queueMax: env.DB_QUEUE_MAX }, "starting api");
  const registry = createRegistry("api");
  const checks =
    env.KAFKA_BROKERS.length > 0
      ? kafkaCheckRequests({ brokers: env.KAFKA_BROKERS, topicPrefix: env.TOPIC_PREFIX }, log)
      : undefined;
  const app = await buildApp({
    find: findOptionsFromEnv(env),
    trustProxy: env.TRUST_PROXY,
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
    ...(checks ? { askCheck: checks.ask } : {}),
    playableRecheckAfterMs: env.PLAYABLE_RECHECK_AFTER,
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
  return { app, ops, db, stopChecks: checks?.stop ?? (async () => undefined) };
}
