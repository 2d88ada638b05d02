import { randomBytes } from "node:crypto";

/** A name no other test or run uses: topics, groups, prefixes, databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}
