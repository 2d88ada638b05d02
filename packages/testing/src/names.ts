import { randomBytes } from "node:crypto";
import "./context.ts";
import { inject } from "vitest";

/**
 * Marks every name one test run creates, so the run's global teardown deletes its topics and groups,
 * and nothing of the other runs sharing the broker.
 */
export function newRunToken(): string {
  return `vt${randomBytes(4).toString("hex")}`;
}

/** Whether `name` came from `uniqueName` in the run marked `run`. */
export function madeByRun(name: string, run: string): boolean {
  return name.includes(`-${run}-`);
}

let token: string | undefined;
function runToken(): string {
  if (token === undefined) {
    try {
      token = inject("testRun") ?? "";
    } catch {
      // Outside a vitest worker (a bench, a script): no run cleans up after it.
      token = "";
    }
  }
  return token;
}

/** A name no other test or run uses: topics, groups, prefixes, databases. */
export function uniqueName(prefix: string): string {
  const run = runToken();
  return `${prefix}-${run ? `${run}-` : ""}${process.pid}-${randomBytes(4).toString("hex")}`;
}
