import { z } from "zod";
import { parseEnv } from "@vod/config";

export const env = parseEnv(
  z.object({
    DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  }),
);
