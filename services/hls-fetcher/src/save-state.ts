import type { Db } from "@vod/db";
import type { VodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { FollowUps } from "./followups.ts";
import type { DomainKnowledge } from "./knowledge.ts";

/** Makes durable what is owed after these outcomes (`requests`), and what was learned. */
export type SaveState = (log: Logger, requests?: readonly VodFetchRequest[]) => Promise<void>;

/**
 * What is owed after these outcomes, and what was learned, made durable before the outcomes are
 * published. While Postgres is away, outcomes that owe nothing (found, not found for good) are
 * published all the same; only those that need a follow-up row wait for it.
 */
export function stateSaver(db: Db, knowledge: DomainKnowledge, followUps: FollowUps): SaveState {
  return async (ctxLog, requests = []) => {
    // Knowledge saves requests, never VODs: a failed save is retried with the next batch.
    await knowledge
      .flush(db)
      .catch((err: unknown) => ctxLog.warn({ err }, "saving domain knowledge failed; kept for the next batch"));
    try {
      await followUps.flush(db);
    } catch (err) {
      if (requests.length === 0 || followUps.owesWrite(requests)) throw err;
      ctxLog.warn(
        { err },
        "saving follow-ups failed; these outcomes owe none, so they are published and the rest is kept for the next flush",
      );
    }
  };
}
