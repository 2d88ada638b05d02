import { z } from "zod";
import { list, parseEnv } from "@vod/config";

/** Where the benchmarks find the broker, PostgreSQL and Redis: the local infra's ports unless told otherwise. */
export const benchEnv = parseEnv(
  z.object({
    KAFKA_BROKERS: list(["127.0.0.1:19092"]),
    DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
    /** The local infra's Redis: fetchers share one CDN budget through it. */
    REDIS_URL: z.string().default("redis://127.0.0.1:16379"),
  }),
  process.env,
);

/** The environment handed to processes a benchmark starts (PATH and the rest), with its own additions. */
export const childEnv = (extra: Record<string, string>): Record<string, string | undefined> => ({
  ...process.env,
  ...extra,
});
