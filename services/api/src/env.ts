import { z } from "zod";
import { clockEnv } from "@vod/clock";
import { duration, parseEnv, port } from "@vod/config";
import { findEnv } from "./find-env.ts";

const schema = z.object({
  DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Where the API (and the web page) listens; 0.0.0.0 in containers. */
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port(8080),
  /** Where /healthz and /metrics are served, apart from the public port, as in every service. */
  OPS_PORT: port(9105),
  OPS_HOST: z.string().min(1).default("127.0.0.1"),
  /** Connections at most: bounded, so overload waits in a short queue or is refused, never piles onto PostgreSQL. */
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(8),
  /** Requests allowed to wait for a connection; one more is answered 503 at once. */
  DB_QUEUE_MAX: z.coerce.number().int().nonnegative().default(32),
  /** The longest a request waits for a connection before it is answered 503. */
  DB_ACQUIRE_TIMEOUT: duration("500ms"),
  /** PostgreSQL cancels a request's statement past this. */
  STATEMENT_TIMEOUT: duration("2s"),
  /**
   * Requests in flight at most; one more is answered 503 before any routing (0: no limit). Unset: the pool
   * plus its queue, so it refuses what the pool would refuse anyway, at a fraction of the cost.
   */
  MAX_IN_FLIGHT: z.coerce.number().int().nonnegative().optional(),
  /** Event-loop delay above which new requests are shed with 503. */
  MAX_EVENT_LOOP_DELAY: duration("100ms"),
  /** Seconds a shed client is told to wait (Retry-After). */
  RETRY_AFTER_SECONDS: z.coerce.number().int().positive().default(1),
  /** How long /categories and /languages (aggregates over the archive) are reused before being recounted. */
  AGGREGATE_TTL: duration("60s"),
  /** How long a list answer is reused for the same parameters (0: never); the archive changes by the minute, not the second. */
  LIST_CACHE_TTL: duration("1s", { allowZero: true }),
  /** Bounds of the list answers kept: megabytes (keys counted) and entries, so distinct URLs cannot grow the heap. */
  LIST_CACHE_MB: z.coerce.number().nonnegative().default(8),
  LIST_CACHE_ENTRIES: z.coerce.number().int().nonnegative().default(10_000),
  /** How long an archived playlist stays in memory (0: never); it does not change once archived. */
  PLAYLIST_CACHE_TTL: duration("60s", { allowZero: true }),
  PLAYLIST_CACHE_MB: z.coerce.number().nonnegative().default(8),
  PLAYLIST_CACHE_ENTRIES: z.coerce.number().int().nonnegative().default(2_000),
  /**
   * Largest playlist decompressed for a client that does not take gzip (a 48-hour VOD is about 2 MB of text);
   * past it the client is answered 406 and can ask with Accept-Encoding: gzip. At most PLAYLIST_GUNZIP_CONCURRENCY
   * are decompressed at once (one more is answered 503), so their buffers stay under the product of both.
   */
  PLAYLIST_PLAIN_MAX_MB: z.coerce.number().positive().default(16),
  PLAYLIST_GUNZIP_CONCURRENCY: z.coerce.number().int().positive().default(4),
  /**
   * Where the API asks the hls-fetcher to check that an opened VOD still plays (Kafka, comma-separated);
   * empty: VODs are not checked, and the last stored check is shown.
   */
  KAFKA_BROKERS: z
    .string()
    .default("127.0.0.1:19092")
    .transform((s) =>
      s
        .split(",")
        .map((b) => b.trim())
        .filter((b) => b !== ""),
    ),
  TOPIC_PREFIX: z.string().default(""),
  /** A VOD opened whose last playable check is older than this is checked again. */
  PLAYABLE_RECHECK_AFTER: duration("1d"),
  ...findEnv,
  ...clockEnv,
});

export type ApiEnv = z.output<typeof schema>;

export function readEnv(env: Record<string, string | undefined> = process.env): ApiEnv {
  return parseEnv(schema, env);
}
