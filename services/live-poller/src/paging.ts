import { sleep } from "@vod/backoff";
import type { StreamSnapshot } from "@vod/kafka";
import {
  GqlError,
  LIVE_STREAMS_QUERY,
  liveStreamsVariables,
  parseLiveStreamsPage,
  type GqlOperationResult,
} from "@vod/twitch";
import { readPage } from "./advance.ts";
import { postBatch } from "./post.ts";
import { failPage, inPlay, type Segment } from "./segments.ts";
import type { SweepRun } from "./sweep.ts";

/** Pages every segment to its end: `concurrency` workers, each POST one page of up to `batchSize` segments. */
export async function pageShards(run: SweepRun, segments: readonly Segment[]): Promise<void> {
  await Promise.all(Array.from({ length: Math.max(1, run.options.concurrency) }, () => worker(run, segments)));
}

async function worker(run: SweepRun, segments: readonly Segment[]): Promise<void> {
  const { options, ledger, halt, deps } = run;
  while (!halt.aborted && segments.some(inPlay)) {
    if (ledger.pages >= options.maxPages) {
      ledger.fatal ??= `page limit (${options.maxPages}) reached`;
      run.stop.abort(new Error(ledger.fatal));
      return;
    }
    const now = performance.now();
    // Segments with the fewest pages first: the longest chain is what the sweep waits for.
    const batch = segments
      .filter((s) => s.state === "ready" && s.notBefore <= now)
      .sort((a, b) => a.pages - b.pages)
      .slice(0, options.batchSize);
    if (batch.length === 0) {
      const waits = segments.filter((s) => s.state === "ready").map((s) => s.notBefore - now);
      await sleep(Math.max(5, Math.min(50, ...waits)), halt);
      continue;
    }
    for (const s of batch) s.state = "inflight";
    const results = await postBatch(
      run,
      batch.map((s) => ({
        document: LIVE_STREAMS_QUERY,
        variables: liveStreamsVariables(options.pageSize, s.after, s.shard.plan.shard.languages),
      })),
    );
    const observedAt = new Date(deps.clock.now()).toISOString();
    const fresh: StreamSnapshot[] = [];
    batch.forEach((seg, i) =>
      handle(
        run,
        seg,
        results[i] ?? { ok: false, error: new GqlError("graphql", "no answer for this operation") },
        observedAt,
        fresh,
      ),
    );
    if (fresh.length === 0) continue;
    if (!(await ledger.publish(fresh))) run.stop.abort(new Error(ledger.fatal ?? "kafka"));
  }
}

/** One operation's answer for its segment: a page to read, or a failure to retry (none once the sweep is halted). */
function handle(
  run: SweepRun,
  seg: Segment,
  result: GqlOperationResult,
  observedAt: string,
  fresh: StreamSnapshot[],
): void {
  if (!result.ok) {
    if (run.halt.aborted) seg.state = "ready";
    else failPage(run, seg, result.error);
    return;
  }
  const parsed = parseLiveStreamsPage(result.data);
  if (!parsed.ok) {
    failPage(run, seg, new GqlError("graphql", `gql answer: ${parsed.reason}`));
    return;
  }
  readPage(run, seg, parsed.page, observedAt, fresh);
}
