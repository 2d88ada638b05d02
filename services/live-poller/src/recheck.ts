import { backoffDelay, sleep } from "@vod/backoff";
import type { StreamSnapshot } from "@vod/kafka";
import { LIVE_USERS_QUERY, MAX_USERS_PER_QUERY, parseLiveUsers } from "@vod/twitch";
import { postBatch } from "./post.ts";
import type { ShardPlan } from "./shards.ts";
import type { SweepResult, SweepRun } from "./sweep.ts";

/** The shard a stream found by id belongs to, by its language; `rest` (or the last shard) without one. */
const shardOf = (plans: readonly ShardPlan[], language: string | null): string =>
  (
    plans.find((p) => language !== null && p.shard.languages.includes(language)) ??
    plans.find((p) => p.shard.name === "rest") ??
    plans.at(-1)
  )?.shard.name ?? "rest";

/**
 * After the pages: the streamers of the last sweep (`deps.recheck`) the pages did not show, looked
 * up by id (MAX_USERS_PER_QUERY a call, `batchSize` calls a POST), and those still live at the
 * threshold published. Calls that fail are asked again with backoff, `retries` times. Skipped when
 * the sweep was halted or already failed.
 */
export async function recheckMissing(run: SweepRun, plans: readonly ShardPlan[]): Promise<SweepResult["recheck"]> {
  const { options, deps, ledger, halt } = run;
  const recheck = { asked: 0, published: 0, unanswered: 0 };
  if (!deps.recheck || halt.aborted || ledger.fatal !== null) return recheck;
  const missing = [...deps.recheck].filter((id) => !ledger.published.has(id));
  recheck.asked = missing.length;
  let chunks: string[][] = [];
  for (let i = 0; i < missing.length; i += MAX_USERS_PER_QUERY) chunks.push(missing.slice(i, i + MAX_USERS_PER_QUERY));
  for (let attempt = 0; chunks.length > 0 && !halt.aborted; attempt++) {
    if (attempt > options.retries) {
      recheck.unanswered += chunks.reduce((n, c) => n + c.length, 0);
      break;
    }
    if (attempt > 0)
      await sleep(
        backoffDelay(attempt - 1, { initialMs: options.backoffInitialMs, maxMs: options.backoffMaxMs }, run.random),
        halt,
      ).catch(() => undefined);
    const failed: string[][] = [];
    for (let i = 0; i < chunks.length && !halt.aborted; i += options.batchSize) {
      const batch = chunks.slice(i, i + options.batchSize);
      const results = await postBatch(
        run,
        batch.map((ids) => ({ document: LIVE_USERS_QUERY, variables: { ids } })),
      );
      const observedAt = new Date(deps.clock.now()).toISOString();
      const fresh: StreamSnapshot[] = [];
      batch.forEach((ids, k) => {
        const result = results[k];
        const parsed = result?.ok ? parseLiveUsers(result.data) : undefined;
        if (!parsed?.ok) return void failed.push(ids);
        if (parsed.dropped.length > 0) deps.onDropped?.(parsed.dropped);
        for (const st of parsed.streams)
          if (ledger.take(st, shardOf(plans, st.language), observedAt, fresh)) recheck.published++;
      });
      if (fresh.length === 0) continue;
      if (!(await ledger.publish(fresh))) break;
    }
    chunks = ledger.fatal === null ? failed : [];
  }
  return recheck;
}
