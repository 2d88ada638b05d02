import { parseDuration, parseEnv } from "@vod/config";
import { z } from "zod";

/** Unset stays unset, so a scenario file can still decide. */
const optionalDuration = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a duration like 10m or 1h, got "${raw}"` });
      return z.NEVER;
    }
    return ms;
  });

/** Environment defaults for the CLI; command-line flags override them. */
const schema = z.object({
  SIM_HOST: z.string().min(1).default("127.0.0.1"),
  SIM_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SIM_SEED: z.coerce.number().int().optional(),
  SIM_STREAMS: z.coerce.number().int().min(0).optional(),
  SIM_SPEED: z.coerce.number().positive().optional(),
  SIM_MUTE_INTERVAL: optionalDuration,
  SIM_SCENARIO: z.string().min(1).optional(),
  /** `playable` (a real segment: archived VODs play), `packet` (one MPEG-TS packet), or a file. */
  SIM_SEGMENT: z.string().min(1).default("playable"),
  LOG_LEVEL: z.string().default("info"),
});

export type SimEnv = z.output<typeof schema>;

export function loadEnv(env: Record<string, string | undefined> = process.env): SimEnv {
  return parseEnv(schema, env);
}
