import { createHash } from "node:crypto";
import { z } from "zod";
import { BadRequest } from "./errors.ts";

/** Where a page ended: the last row's start time and id, and which filters the pages belong to. */
export interface Cursor {
  startTimeMs: number;
  id: number;
}

/**
 * Cursors are not signed, but every field is range-checked before it reaches a query: a forged one can only
 * name a position a `to` filter could name as well, and one out of range is a 400, never a failed statement.
 * Unsigned, a cursor stays valid across restarts and instances, with no key to share or rotate.
 */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const shape = z.tuple([
  z.number().int().min(0).max(MAX_TIME_MS),
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z.string().max(16),
]);

/** Ties a cursor to the filters it was made for: reusing it with other filters is an error, not a silent jump. */
export function filtersKey(filters: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalJson(filters)).digest("base64url").slice(0, 8);
}

/** The defined fields of an object as JSON, in name order: one text for one set of values. */
export function canonicalJson(fields: Record<string, unknown>): string {
  return JSON.stringify(
    Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

export function encodeCursor(c: Cursor, key: string): string {
  return Buffer.from(JSON.stringify([c.startTimeMs, c.id, key])).toString("base64url");
}

export function decodeCursor(raw: string, key: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw new BadRequest([{ parameter: "cursor", problem: "not a cursor this API issued" }]);
  }
  const r = shape.safeParse(parsed);
  if (!r.success) throw new BadRequest([{ parameter: "cursor", problem: "not a cursor this API issued" }]);
  const [startTimeMs, id, k] = r.data;
  if (k !== key)
    throw new BadRequest([{ parameter: "cursor", problem: "this cursor belongs to a listing with other filters" }]);
  return { startTimeMs, id };
}
