import type { z } from "zod";

/** A configuration problem, naming each bad field and what is wrong with it. */
export class ConfigError extends Error {
  constructor(readonly problems: { field: string; problem: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.field}: ${p.problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses an environment with a zod object schema; throws a ConfigError listing every bad field. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      field: issue.path.join(".") || "(environment)",
      problem: issue.message,
    })),
  );
}
