import { z } from "zod";
import { duration, list, parseEnv, port } from "@vod/config";

const schema = z.object({
  KAFKA_BROKERS: list(["127.0.0.1:19092"]),
  TOPIC_PREFIX: z.string().default(""),
  DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GROUP_ID: z.string().min(1).default("writer"),
  /** Rows only for VODs whose viewers reached this (snapshots arrive down to the poller's tracking threshold). */
  MIN_VIEWERS: z.coerce.number().int().nonnegative().default(10),
  /** Largest batch handed to one upsert transaction. */
  BATCH_MAX_MESSAGES: z.coerce.number().int().positive().default(5_000),
  /** How long the broker may hold a fetch to fill a batch. */
  BATCH_MAX_WAIT: duration("250ms"),
  /** The broker holds a fetch until this many bytes are there (or BATCH_MAX_WAIT passed). */
  BATCH_MIN_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(512 * 1024),
  /** Room for a full batch in one fetch (a snapshot is about 450 bytes). */
  BATCH_MAX_BYTES_PER_PARTITION: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** Partitions handled at the same time; each holds one pool connection while it writes. */
  PARTITIONS_CONCURRENTLY: z.coerce.number().int().positive().default(2),
  // At least two: migrations hold one connection for their lock while they run on another.
  DB_POOL_MAX: z.coerce.number().int().min(2).default(4),
  /** Retry backoff while Postgres is unreachable: it never gives up, it never skips. */
  RETRY_INITIAL: duration("200ms"),
  RETRY_MAX: duration("10s"),
  /** Real time between the consumer dying and the exit (status 1), so /healthz can report it. */
  FATAL_EXIT_DELAY: duration("5s", { allowZero: true }),
  OPS_PORT: port(9104),
  /** Where /healthz and /metrics listen; 0.0.0.0 in containers, so Prometheus can scrape them. */
  OPS_HOST: z.string().min(1).default("127.0.0.1"),
});

export type WriterEnv = z.output<typeof schema>;

export function readEnv(env: Record<string, string | undefined> = process.env): WriterEnv {
  return parseEnv(schema, env);
}
