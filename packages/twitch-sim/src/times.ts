import { parseDuration } from "@vod/config";

/** A duration: milliseconds as a number, or "15m", "1h30m", "500ms". */
export function parseSpan(value: number | string): number {
  if (typeof value === "number") return value;
  const ms = parseDuration(value);
  if (ms === undefined) throw new Error(`expected a duration like 30s, 15m or 1h, got "${value}"`);
  return ms;
}

/** `parseSpan` for an optional field: unset stays unset. */
export function parseOptionalSpan(value: number | string | undefined): number | undefined {
  return value === undefined ? undefined : parseSpan(value);
}

/**
 * A point in time: Unix ms, an ISO string, or "+15m" / "-1h" relative to `base`
 * (the world's start in a scenario, the current time in the admin API).
 */
export function parseWhen(value: number | string, base: number): number {
  if (typeof value === "number") return value;
  const rel = /^([+-])(.+)$/.exec(value.trim());
  if (rel) return base + (rel[1] === "-" ? -1 : 1) * parseSpan(rel[2] as string);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`expected a time (ISO 8601, Unix ms or +duration), got "${value}"`);
  return ms;
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
