import type { SweepLedger } from "./ledger.ts";
import { inPlay, type ShardRun } from "./segments.ts";
import type { PageMark } from "./shards.ts";

/** How one shard went: complete only if each of its segments reached its end (or was covered by the one before). */
export interface ShardOutcome {
  name: string;
  complete: boolean;
  reason: string | null;
  /** Streams first published by this shard in this sweep. */
  count: number;
  pages: number;
  segments: number;
  /** Pages read, for the next sweep's plan. */
  marks: PageMark[];
}

export function shardOutcomes(shards: readonly ShardRun[]): ShardOutcome[] {
  return shards.map((shard) => {
    const unfinished = shard.segments.some(inPlay);
    const reason = shard.failure ?? (unfinished ? `shard ${shard.plan.shard.name}: not finished` : null);
    return {
      name: shard.plan.shard.name,
      complete: reason === null,
      reason,
      count: shard.count,
      pages: shard.pages,
      segments: shard.segments.length,
      marks: shard.marks,
    };
  });
}

/**
 * Why the sweep is not complete, or null: cut short by its signal, a fatal failure, a shard that did
 * not complete, or more streams dropped as invalid than `dropTolerance` of those read.
 */
export function incompleteReason(
  signal: AbortSignal,
  ledger: SweepLedger,
  outcomes: readonly ShardOutcome[],
  dropTolerance: number,
): string | null {
  if (signal.aborted)
    return `cut short: ${String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? "aborted"))}`;
  if (ledger.fatal !== null) return ledger.fatal;
  const failed = outcomes.filter((o) => !o.complete);
  if (failed.length > 0) return failed.map((o) => o.reason).join("; ");
  if (ledger.dropped > dropTolerance * Math.max(ledger.edges, 1))
    return `dropped ${ledger.dropped} of ${ledger.edges} streams as invalid`;
  return null;
}
