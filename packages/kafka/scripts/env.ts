import { z } from "zod";
import { list, parseEnv } from "@vod/config";

export const env = parseEnv(
  z.object({
    KAFKA_BROKERS: list(["127.0.0.1:19092"]),
    TOPIC_PREFIX: z.string().default(""),
    LOG_LEVEL: z.string().default("info"),
  }),
);
