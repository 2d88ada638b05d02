import type { Logger } from "@vod/log";
import type { PollerMetrics } from "./metrics.ts";
import type { SweepDeps, SweepResult } from "./sweep.ts";

type Hooks = Pick<SweepDeps, "onDropped" | "onPage" | "onRetry" | "onDeadSegment" | "onStepBack">;

/** What happens under way in a sweep, counted in metrics and said in its log. */
export function sweepHooks(metrics: PollerMetrics, log: Logger): Hooks {
  return {
    onDropped: (reasons) => {
      metrics.dropped.inc(reasons.length);
      log.warn({ dropped: reasons.length, reasons: reasons.slice(0, 3) }, "dropped invalid streams from a GQL answer");
    },
    onPage: () => metrics.pages.inc(),
    onRetry: ({ shard, attempt, delayMs, error }) => {
      metrics.retries.inc({ kind: error.kind });
      log.warn({ shard, attempt, delayMs, kind: error.kind, err: error.message }, "gql page failed; retrying");
    },
    onDeadSegment: (info) =>
      log.warn(info, "a segment's start cursor did not answer; the segment before it covers its part"),
    onStepBack: (info) => {
      metrics.stepBacks.inc();
      log.debug(info, "the list was re-sorted under a segment; reading back");
    },
  };
}

/** What a finished sweep tells metrics and the debug log: how the lookup by id went, what each shard read. */
export function reportSweep(result: SweepResult, metrics: PollerMetrics, log: Logger): void {
  metrics.recheck.inc({ result: "published" }, result.recheck.published);
  metrics.recheck.inc(
    { result: "not_live" },
    result.recheck.asked - result.recheck.published - result.recheck.unanswered,
  );
  metrics.recheck.inc({ result: "unanswered" }, result.recheck.unanswered);
  log.debug(
    {
      pages: result.pages,
      posts: result.posts,
      shards: result.shards.map((s) => ({ name: s.name, count: s.count, pages: s.pages, segments: s.segments })),
    },
    "sweep shards",
  );
}
