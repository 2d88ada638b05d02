import type { FencedProducer } from "@vod/kafka";
import type { Tracker } from "./tracker.ts";

/** One snapshot partition this instance owns: its tracker, and whether its state is restored yet. */
export interface Owned {
  partition: number;
  /** Replaced by a fresh one when a restore is retried: a half-read state must not be read into twice. */
  tracker: Tracker;
  /** Resolves once the partition's state is restored and its recent releases reconciled. */
  ready: Promise<void>;
  restored: boolean;
  /**
   * Writes this partition's state records and releases, in transactions under an id of its own:
   * claimed before the state is restored, it fences whoever owned the partition before, so nothing
   * they still had in flight becomes visible after the restore read. A release and the records saying
   * it happened are one transaction: the restore sees both or neither.
   */
  releaser?: FencedProducer;
  /** Clock time since which this partition's due releases have waited for its inputs to catch up. */
  blockedSince?: number;
  /** Clock time since which its due releases have been held because the coordinator did not confirm the partition as ours. */
  heldSince?: number;
  /** Real time (performance.now) since which its releases have failed, kept across the restores that follow. */
  failingSince?: number;
}

/** The partition is no longer this instance's (a batch for it is retried by whoever owns it). */
export class Revoked extends Error {
  constructor(partition: number) {
    super(`partition ${partition} is no longer assigned to this instance`);
  }
}
