import { GqlError, type GqlOperation, type GqlOperationResult } from "@vod/twitch";
import type { SweepRun } from "./sweep.ts";

const errorOf = (err: unknown): GqlError =>
  err instanceof GqlError ? err : new GqlError("network", err instanceof Error ? err.message : String(err));

/** One POST of a sweep, counted; a POST that throws answers each of its operations with that error. */
export async function postBatch(run: SweepRun, operations: GqlOperation[]): Promise<GqlOperationResult[]> {
  try {
    run.ledger.posts++;
    run.deps.onPost?.(operations.length);
    return await run.deps.gql.batch(operations, run.halt);
  } catch (err) {
    const error = errorOf(err);
    return operations.map(() => ({ ok: false, error }));
  }
}
