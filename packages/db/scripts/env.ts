import { z } from "zod";
import { parseEnv } from "@vod/config";

export const env = parseEnv(
  z.object({
    DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
    /** The password api-login.ts gives the API's role; secret, never logged. */
    API_DATABASE_PASSWORD: z.string().min(1).optional(),
  }),
);
