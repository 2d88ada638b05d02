import type { LimitFunction } from "p-limit";
import type { Clock } from "@vod/clock";
import type { Db } from "@vod/db";
import { sleep } from "@vod/backoff";
import type { VodFetchResult } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { FetcherEnv } from "./env.ts";
import type { FetchOne } from "./fetch-one.ts";
import type { VodFetcher } from "./fetcher.ts";
import type { FollowUps } from "./followups.ts";
import type { DomainKnowledge } from "./knowledge.ts";
import type { RateLimiter } from "@vod/cdn-budget";
import type { SaveState } from "./save-state.ts";
import { inSlots } from "./slots.ts";

export interface FollowUpLoopDeps {
  env: FetcherEnv;
  db: Db;
  fetcher: VodFetcher;
  fetchOne: FetchOne;
  knowledge: DomainKnowledge;
  followUps: FollowUps;
  limiter: RateLimiter;
  slots: LimitFunction;
  clock: Clock;
  log: Logger;
  stopping: AbortSignal;
  saveState: SaveState;
  publish(results: VodFetchResult[]): Promise<void>;
}

/** Below every request of the main lane: the deep search spends only what it leaves. */
const DEEP_PRIORITY = 9;
/** Deep requests between two looks at due retries. */
const DEEP_PER_ROUND = 20;

/**
 * Retries of failed VODs when due, and the deep search while the limiter has nothing queued.
 * Outcomes are published before the follow-up rows they settle are deleted: a crash in between
 * repeats a request, never loses an outcome.
 */
export async function runFollowUps(d: FollowUpLoopDeps): Promise<void> {
  const { log, stopping } = d;
  while (!stopping.aborted) {
    try {
      const claim = await d.followUps.claimLoaded(d.db).catch((err: unknown) => {
        log.warn({ err }, "claiming follow-ups failed; those loaded at start wait for PostgreSQL");
        return { claimed: 0, lost: 0 };
      });
      if (claim.claimed + claim.lost > 0)
        log.info(claim, "follow-ups loaded at start claimed (lost: another fetcher of the group has them)");
      await retryDue(d);
      await deepRound(d);
      await d.saveState(log);
    } catch (err) {
      if (stopping.aborted) break;
      log.error({ err }, "follow-up round failed; trying again");
    }
    await sleep(d.env.FOLLOWUP_POLL, stopping);
  }
}

/** The failed VODs whose retry is due, fetched again in the shared slots and published. */
async function retryDue(d: FollowUpLoopDeps): Promise<void> {
  const { followUps, clock, log } = d;
  const retries = followUps.dueRetries(clock.now(), d.env.CONCURRENCY);
  if (retries.length === 0) return;
  await d.knowledge.warm(retries.map((r) => r.streamerId));
  const outcomes = await inSlots(d.slots, retries, (r) => d.fetchOne(r, d.stopping));
  const reports = outcomes.map((o) => o.report);
  await d.publish(reports.map((r) => r.result));
  outcomes.forEach((o, i) => followUps.apply(retries[i]!, o.report, clock.now(), o.retry));
  await d.saveState(log);
  log.info({ vods: reports.length, outcomes: reports.map((r) => r.result.outcome) }, "failed VODs retried");
}

/** One deep request at a time, and only when no request of the main lane waits for its turn. */
async function deepRound(d: FollowUpLoopDeps): Promise<void> {
  const { fetcher, followUps, limiter, clock, log, stopping } = d;
  const failing = new Set<string>();
  await d.knowledge.warm(followUps.deepStreamers());
  for (let n = 0; n < DEEP_PER_ROUND && !stopping.aborted && limiter.queued() === 0; n++) {
    const pick = followUps.nextDeep(clock.now(), (r) => fetcher.candidates(r), failing);
    if (!pick) break;
    const { result, missed } = await fetcher.probe(pick.request, pick.candidate, stopping, DEEP_PRIORITY);
    if (result) {
      await d.publish([{ ...result, partial: false }]);
      followUps.settle(pick.key);
      log.info(
        { streamId: result.streamId, login: result.login, outcome: result.outcome },
        "deep search found a VOD given up early",
      );
    } else if (missed) {
      followUps.deepMissed(pick.key, pick.candidate);
    } else {
      failing.add(pick.candidate.domain); // the domain failed or is cut off: its candidates wait, the others go on
    }
  }
}
