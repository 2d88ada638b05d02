import type { Clock } from "@vod/clock";
import type { VodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { FetchCounters, FetchReport } from "./fetch-report.ts";
import type { VodFetcher } from "./fetcher.ts";
import { failedResult, reasonOf, resultProblem } from "./poison.ts";

/** One VOD's fetch; `retry` is false when fetching again would give the same result. */
export type FetchOne = (req: VodFetchRequest, signal: AbortSignal) => Promise<{ report: FetchReport; retry: boolean }>;

export interface FetchOneDeps {
  fetcher: VodFetcher;
  clock: Clock;
  log: Logger;
  counters: FetchCounters;
  /** RESULT_MAX_BYTES: the largest result that can be published. */
  maxResultBytes: number;
  /** Whether the streamer asked to be left out (`vods forget`): its VOD is not searched for. */
  takenDown?: (req: VodFetchRequest) => Promise<boolean>;
}

const TAKEN_DOWN = "the streamer asked to be left out of the archive (vods forget); not searched for";

/**
 * One VOD's fetch, whatever goes wrong with it: an error, or a result that cannot be published (its
 * schema, its size), gives this VOD `failed` with the reason and the rest of the batch goes on.
 * `retry` is false when fetching again would give the same result.
 */
export function guardedFetch({ fetcher, clock, log, counters, maxResultBytes, takenDown }: FetchOneDeps): FetchOne {
  return async (req, signal) => {
    if (await takenDown?.(req)) {
      // Terminal: neither retried nor searched deeper. The writer would not store it anyway.
      counters.outcome?.("failed", 0);
      return { report: { result: { ...failedResult(req, TAKEN_DOWN, clock.now()), terminal: true } }, retry: false };
    }
    let report: FetchReport;
    try {
      report = await fetcher.run(req, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const reason = reasonOf(err);
      log.warn(
        { streamId: req.streamId, login: req.login, reason },
        "handling a VOD failed; its outcome is failed, the batch goes on",
      );
      counters.outcome?.("failed", 0);
      return { report: { result: failedResult(req, reason, clock.now()) }, retry: true };
    }
    const problem = resultProblem(report.result, maxResultBytes);
    if (problem === null) return { report, retry: true };
    log.warn(
      { streamId: req.streamId, login: req.login, reason: problem },
      "a VOD's result cannot be published; its outcome is failed, the batch goes on",
    );
    counters.outcome?.("failed", report.result.requests);
    return { report: { result: failedResult(req, problem, clock.now(), report.result.requests) }, retry: false };
  };
}
