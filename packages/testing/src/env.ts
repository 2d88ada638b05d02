import { z } from "zod";
import { bool, list, parseEnv } from "@vod/config";

/** What the test setup reads from the environment, parsed once. */
export const testEnv = parseEnv(
  z.object({
    /** Both set: use these instead of starting anything. */
    KAFKA_BROKERS: list([]),
    DATABASE_URL: z.string().optional(),
    /** The API's login (vod_api) on DATABASE_URL's server; unset: the infra's (.infra/env). */
    API_DATABASE_URL: z.string().optional(),
    /** Redis for the shared CDN budget; unset: the infra's (.infra/env), started alone when not running. */
    REDIS_URL: z.string().optional(),
    /** "local" skips containers even when a Docker engine is reachable. */
    VOD_TEST_INFRA: z.enum(["auto", "local"]).default("auto"),
    /** Leave the infra the run started running afterwards. */
    VOD_KEEP_INFRA: bool(false),
    KAFKA_PORT: z.coerce.number().int().default(19092),
    PGPORT: z.coerce.number().int().default(15432),
    TEST_LOG_LEVEL: z.string().default("silent"),
  }),
);

/** The environment handed to processes a test starts (PATH and the rest). */
export const childEnv = (extra: Record<string, string>): Record<string, string | undefined> => ({
  ...process.env,
  ...extra,
});
