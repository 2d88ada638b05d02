import { z } from "zod";
import { clockEnv } from "@vod/clock";
import { bool, duration, list, parseEnv, port } from "@vod/config";

const schema = z.object({
  KAFKA_BROKERS: list(["127.0.0.1:19092"]),
  TOPIC_PREFIX: z.string().default(""),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Any number of instances per group: each restores the state of the partitions it is given. */
  GROUP_ID: z.string().min(1).default("delay"),
  /**
   * Moves state records of the unpartitioned layout to their streamer's partition before joining
   * the group. Once, on one instance, with the others stopped (README: Operations).
   */
  MIGRATE_STATE: bool(false),
  /** A live VOD absent from complete sweeps that started this long after its last sighting has ended. */
  END_AFTER: duration("15m"),
  /** Only VODs whose viewers reached this are released (archived); lower ones are tracked so a dip does not end them. */
  MIN_VIEWERS: z.coerce.number().int().nonnegative().default(10),
  /** Twitch's mute runs start on multiples of this (the top of the hour). */
  MUTE_INTERVAL: duration("1h"),
  /**
   * The mute run awaited starts at least this long after the last sighting, and no earlier than the
   * first complete sweep that missed the VOD.
   */
  MUTE_MIN_GAP: duration("5m", { allowZero: true }),
  /** Released this long after that mute run starts, so the run has finished. */
  MUTE_MARGIN: duration("10m", { allowZero: true }),
  /** Released VODs are remembered this long, so late sightings cannot release them twice. */
  RELEASED_RETENTION: duration("24h"),
  /** Sweeps remembered per VOD when matching a sweep marker with its snapshots. */
  RECENT_SWEEPS: z.coerce.number().int().min(2).default(8),
  /** Due releases wait for the inputs to catch up (release-time order); never longer than this clock time. */
  MAX_ORDER_WAIT: duration("2m", { allowZero: true }),
  /** How often (real time) the release loop looks at the head of the queue. */
  RELEASE_POLL: duration("100ms"),
  /**
   * The release loop this long (real time) without one good tick, a partition's releases failing this
   * long, or its restore failing this long: /healthz fails and the process exits 1.
   */
  RELEASE_FAILURE_LIMIT: duration("1m"),
  /** A release tick that has not finished after this (real time) counts as failed. */
  RELEASE_TICK_TIMEOUT: duration("45s"),
  /** A write of state records, or a release transaction, not acknowledged after this (real time) counts as failed. */
  SEND_TIMEOUT: duration("30s"),
  /** Real time between a fatal failure and the exit, so /healthz can report it. */
  FATAL_EXIT_DELAY: duration("5s", { allowZero: true }),
  /** Recent fetch requests read at start, to recognise releases sent just before a crash. */
  RECONCILE_LAST: z.coerce.number().int().nonnegative().default(2_000),
  BATCH_MAX_MESSAGES: z.coerce.number().int().positive().default(5_000),
  BATCH_MAX_WAIT: duration("250ms"),
  /** After a crash, the group waits this long for the dead member before a restart gets the partitions. */
  SESSION_TIMEOUT: duration("10s"),
  OPS_PORT: port(9102),
  /** Where /healthz and /metrics listen; 0.0.0.0 in containers, so Prometheus can scrape them. */
  OPS_HOST: z.string().min(1).default("127.0.0.1"),
  ...clockEnv,
});

export type DelayEnv = z.output<typeof schema>;

export function readEnv(env: Record<string, string | undefined> = process.env): DelayEnv {
  return parseEnv(schema, env);
}
