import { z } from "zod";
import { list, parseEnv } from "@vod/config";

/** Where the benchmarks find the broker and PostgreSQL: the local infra's ports unless told otherwise. */
export const benchEnv = parseEnv(
  z.object({
    KAFKA_BROKERS: list(["127.0.0.1:19092"]),
    DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  }),
  process.env,
);

/** The environment handed to processes a benchmark starts (PATH and the rest), with its own additions. */
export const childEnv = (extra: Record<string, string>): Record<string, string | undefined> => ({ ...process.env, ...extra });
