import { duration, parseEnv } from "@vod/config";
import { z } from "zod";

/** Environment defaults for the CLI; command-line flags override them. */
const schema = z.object({
  SIM_HOST: z.string().min(1).default("127.0.0.1"),
  SIM_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SIM_SEED: z.coerce.number().int().optional(),
  SIM_STREAMS: z.coerce.number().int().min(0).optional(),
  SIM_SPEED: z.coerce.number().positive().optional(),
  SIM_MUTE_INTERVAL: duration("1h").optional(),
  SIM_SCENARIO: z.string().min(1).optional(),
  LOG_LEVEL: z.string().default("info"),
});

export type SimEnv = z.output<typeof schema>;

export function loadEnv(env: Record<string, string | undefined> = process.env): SimEnv {
  // duration() has a default, so an unset SIM_MUTE_INTERVAL must stay unset to let a scenario decide.
  return parseEnv(schema, env.SIM_MUTE_INTERVAL === undefined ? { ...env, SIM_MUTE_INTERVAL: undefined } : env);
}
