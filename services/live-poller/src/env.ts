import { z } from "zod";
import { clockEnv } from "@vod/clock";
import { ConfigError, bool, duration, list, parseEnv, port } from "@vod/config";
import { TWITCH_GQL_ENDPOINT, TWITCH_WEB_CLIENT_ID } from "@vod/twitch";
import { parseShards } from "./shards.ts";

const headers = z
  .string()
  .default("{}")
  .transform((raw, ctx) => {
    try {
      return z.record(z.string(), z.string()).parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({
        code: "custom",
        message: 'expected a JSON object of strings, e.g. {"User-Agent":"vod-archiver"}',
      });
      return z.NEVER;
    }
  });

const schema = z.object({
  KAFKA_BROKERS: list(["127.0.0.1:19092"]),
  TOPIC_PREFIX: z.string().default(""),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GQL_ENDPOINT: z.url().default(TWITCH_GQL_ENDPOINT),
  GQL_CLIENT_ID: z.string().min(1).default(TWITCH_WEB_CLIENT_ID),
  /** Extra request headers as a JSON object (may carry secrets: never logged). */
  GQL_HEADERS: headers,
  GQL_TIMEOUT: duration("10s"),
  GQL_RETRIES: z.coerce.number().int().nonnegative().default(3),
  GQL_BACKOFF_INITIAL: duration("500ms"),
  GQL_BACKOFF_MAX: duration("10s"),
  /** Requests in flight toward GQL, and requests per second (real time). */
  GQL_CONCURRENCY: z.coerce.number().int().positive().default(2),
  GQL_RATE: z.coerce.number().positive().default(3),
  /** Operations (pages of different segments) per POST; Twitch's endpoint takes an array. */
  GQL_BATCH: z.coerce.number().int().min(1).max(100).default(10),
  PAGE_SIZE: z.coerce.number().int().min(1).max(30).default(30),
  /** Share of a page to read again on the next one; viewer-ordered pages drift while we page. */
  PAGE_OVERLAP: z.coerce.number().min(0).max(0.9).default(0.2),
  /** Archive threshold: VODs that reached it are archived (used downstream; the poller tracks from TRACK_MIN_VIEWERS). */
  MIN_VIEWERS: z.coerce.number().int().nonnegative().default(10),
  /** Streams at or above this are published each sweep, so one hovering around MIN_VIEWERS is not taken as ended. */
  TRACK_MIN_VIEWERS: z.coerce.number().int().nonnegative().default(5),
  /** Pages per sweep, all shards together: a guard against chains that never end. */
  MAX_PAGES: z.coerce.number().int().positive().default(10_000),
  /**
   * Cursor chains by broadcaster language: comma-separated, `+` joins languages into one shard.
   * Every Language value not named here is paged in one more shard ("rest").
   */
  SWEEP_SHARDS: z
    .string()
    .default("EN,ES,PT,DE,RU,FR,JA,KO")
    .transform((raw, ctx) => {
      try {
        return parseShards(raw);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** A shard is cut into segments of about this many pages, at cursors saved in the last sweep. */
  SEGMENT_PAGES: z.coerce.number().int().positive().default(100),
  MAX_SEGMENTS: z.coerce.number().int().positive().default(8),
  /** Cursors saved by the last sweep before a restart are used if younger than this (clock time). */
  CURSORS_MAX_AGE: duration("1h"),
  /** A segment reads on until this share of viewers below where the next one started (drift between them). */
  JOIN_MARGIN: z.coerce.number().min(0).max(0.9).default(0.1),
  /** When the list is re-sorted under a chain, it reads again from where viewers were this share above its front (0: off). */
  DRIFT_MARGIN: z.coerce.number().min(0).max(1).default(0.15),
  /**
   * After the pages, streamers the last sweep published and this one's pages missed are looked up by
   * id (100 per operation): a count that jumped over a chain's front while it paged is caught here.
   */
  RECHECK_MISSING: bool(true),
  /** A sweep (or shard) counting less than this share of the median of recent complete ones is incomplete. */
  SWEEP_MIN_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  SWEEP_HISTORY: z.coerce.number().int().positive().default(5),
  /** The ratio applies once the median is at least this many streams (an empty sweep is always incomplete). */
  SWEEP_MIN_MEDIAN: z.coerce.number().int().nonnegative().default(100),
  /** After the sweep loop dies, /healthz answers unhealthy this long (real time) before the process exits 1. */
  CRASH_EXIT_DELAY: duration("5s"),
  SWEEP_INTERVAL: duration("5m"),
  /** A sweep still running after this much clock time is cut short and marked incomplete. */
  SWEEP_TIMEOUT: duration("5m"),
  /** Share of streams that may be dropped as invalid before a sweep stops counting as complete. */
  DROP_TOLERANCE: z.coerce.number().min(0).max(1).default(0.01),
  OPS_PORT: port(9101),
  /** Where /healthz and /metrics listen; 0.0.0.0 in containers, so Prometheus can scrape them. */
  OPS_HOST: z.string().min(1).default("127.0.0.1"),
  ...clockEnv,
});

export type PollerEnv = z.output<typeof schema>;

export function readEnv(env: Record<string, string | undefined> = process.env): PollerEnv {
  const parsed = parseEnv(schema, env);
  // Tracking below the archive threshold is what keeps a VOD that dips under it alive.
  if (parsed.TRACK_MIN_VIEWERS > parsed.MIN_VIEWERS) {
    throw new ConfigError([
      { field: "TRACK_MIN_VIEWERS", problem: `must not exceed MIN_VIEWERS (${parsed.MIN_VIEWERS})` },
    ]);
  }
  return parsed;
}
