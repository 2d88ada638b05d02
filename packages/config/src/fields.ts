import { z } from "zod";

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);

/** An environment boolean: "false", "0", "no", "off" and "" are false (unlike `Boolean("false")`). */
export const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      const v = raw.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      ctx.addIssue({ code: "custom", message: `expected a boolean (true/false/1/0/yes/no), got "${raw}"` });
      return z.NEVER;
    });

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "30s", "15m", "1h", "1h30m", or a bare number of milliseconds. Returns milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (UNIT_MS[unit ?? "ms"] ?? 1), 0);
}

/**
 * A duration in milliseconds, written as "15m", "500ms", "1h30m" or a number of milliseconds.
 * Zero is refused unless `allowZero`: a zero period or timeout breaks a service at run time, not at start.
 */
export const duration = (fallback: string, { allowZero = false }: { allowZero?: boolean } = {}) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      const ms = parseDuration(raw);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `expected a duration like 500ms, 30s, 15m or 1h, got "${raw}"` });
        return z.NEVER;
      }
      if (ms === 0 && !allowZero) {
        ctx.addIssue({ code: "custom", message: `must be longer than zero, got "${raw}"` });
        return z.NEVER;
      }
      return ms;
    });

/** A comma-separated list; blanks are dropped. With a non-empty fallback, an empty list is refused. */
export const list = (fallback: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return [...fallback];
      const items = raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0 && fallback.length > 0) {
        ctx.addIssue({ code: "custom", message: "expected at least one comma-separated value" });
        return z.NEVER;
      }
      return items;
    });

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** A regular expression, given as its source; one that does not compile is refused with the compiler's reason. */
export const pattern = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      try {
        return new RegExp(raw);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `not a regular expression: ${(err as Error).message}` });
        return z.NEVER;
      }
    });
