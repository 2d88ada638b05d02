import { createHash } from "node:crypto";
import { z } from "zod";
import { BadRequest } from "./errors.ts";

/** Where a page ended: the last row's start time and id, and which filters the pages belong to. */
export interface Cursor {
  startTimeMs: number;
  id: number;
}

const shape = z.tuple([z.number().int().nonnegative(), z.number().int().positive(), z.string()]);

/** Ties a cursor to the filters it was made for: reusing it with other filters is an error, not a silent jump. */
export function filtersKey(filters: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.entries(filters)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 8);
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
