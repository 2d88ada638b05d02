import { z } from "zod";
import { list, parseEnv } from "@vod/config";

export const cliEnvSchema = z.object({
  KAFKA_BROKERS: list(["127.0.0.1:19092"]),
  DATABASE_URL: z.string().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  LOG_LEVEL: z.string().default("warn"),
  TOPIC_PREFIX: z.string().default(""),
  /** The hls-fetcher's consumer group, named in the replay commands the doctor suggests. */
  FETCHER_GROUP: z.string().min(1).default("hls-fetcher"),
});

export const loadEnv = () => parseEnv(cliEnvSchema);

/** The environment the demo hands down to the processes it starts (PATH, locale, and so on). */
export const inheritedEnv = (): Record<string, string | undefined> => ({ ...process.env });
