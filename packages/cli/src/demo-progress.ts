import type pg from "pg";
import type { DemoResult } from "./demo.ts";
import { restartSummary, type Supervised } from "./supervise.ts";

/**
 * The progress line every 5 s (the archive's counts, the simulated time, the restarts), and once the
 * first VOD is archived, how to play it; until Ctrl-C or `forMs`. Returns the last counts.
 */
export async function showProgress(o: {
  pool: pg.Pool;
  children: readonly Supervised[];
  simUrl: string;
  apiUrl: string;
  forMs?: number;
  print: (line: string) => void;
}): Promise<DemoResult> {
  const { pool, simUrl, apiUrl } = o;
  let interrupted = false;
  const onSignal = () => void (interrupted = true);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = Date.now();
  let last: DemoResult = { vods: 0, found: 0, notFound: 0, failed: 0 };
  let mpvShown = false;
  while (!interrupted && (o.forMs === undefined || Date.now() - started < o.forMs)) {
    await new Promise((r) => setTimeout(r, 5_000));
    last = await progress(pool);
    const sim = (await fetch(`${simUrl}/admin/clock`)
      .then((r) => r.json())
      .catch(() => ({ now: "?" }))) as { now: string };
    o.print(
      `[${Math.round((Date.now() - started) / 1000)}s, simulated ${sim.now}] VODs seen ${last.vods}, live or waiting ${last.vods - last.found - last.notFound - last.failed}, archived ${last.found}, not found ${last.notFound}, failed ${last.failed}${restarted(o.children)}`,
    );
    if (!mpvShown && last.found > 0) {
      const first = await firstArchived(pool);
      if (first) {
        o.print(`first VOD archived; play it with: mpv "${apiUrl}${first}"`);
        mpvShown = true;
      }
    }
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  return last;
}

/** The progress line's tail naming the processes that died and were restarted (compose's `ps` shows as much). */
function restarted(children: readonly Supervised[]): string {
  const summary = restartSummary(children);
  return summary ? `; restarted: ${summary}` : "";
}

/** The playlist path of the first archived VOD, as the API serves it. */
async function firstArchived(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ stream_id: string; unix: string }>(
    "select stream_id, floor(extract(epoch from start_time))::bigint::text as unix from vods where outcome = 'found' order by fetched_at, id limit 1",
  );
  const r = rows[0];
  return r ? `/m3u8/${r.stream_id}/${r.unix}/index.m3u8` : undefined;
}

async function progress(pool: pg.Pool): Promise<DemoResult> {
  const { rows } = await pool.query<{ vods: number; found: number; not_found: number; failed: number }>(`
    select count(*)::int as vods,
           count(*) filter (where outcome = 'found')::int as found,
           count(*) filter (where outcome = 'not_found')::int as not_found,
           count(*) filter (where outcome = 'failed')::int as failed
    from vods`);
  const r = rows[0]!;
  return { vods: r.vods, found: r.found, notFound: r.not_found, failed: r.failed };
}
