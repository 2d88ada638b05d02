import { sql } from "drizzle-orm";
import { withTransaction, type Db } from "@vod/db";
import type { VodCheck } from "@vod/kafka";

/**
 * Stores the playable checks of a batch on their VODs: the latest check of each wins, whatever the
 * delivery order, and a VOD not in the archive (taken down, never archived) is left alone: a check
 * never creates a row. Arrays `unnest`ed, as the upserts do.
 */
export async function writeChecks(db: Db, checks: readonly VodCheck[]): Promise<number> {
  const latest = new Map<string, VodCheck>();
  for (const c of checks) {
    const key = `${c.streamId}:${Date.parse(c.startTime)}`;
    const had = latest.get(key);
    if (!had || Date.parse(had.checkedAt) < Date.parse(c.checkedAt)) latest.set(key, c);
  }
  const rows = [...latest.values()];
  if (rows.length === 0) return 0;
  const col = <T>(f: (c: VodCheck) => T) => sql.param(rows.map(f));
  return withTransaction(db, async (tx) => {
    const result = await tx.execute(sql`
      UPDATE vods SET playable = c.state, playable_checked_at = c.checked_at, updated_at = now()
      FROM unnest(
        ${col((c) => c.streamId)}::bigint[], ${col((c) => c.startTime)}::timestamptz[],
        ${col((c) => c.state)}::text[], ${col((c) => c.checkedAt)}::timestamptz[]
      ) AS c(stream_id, start_time, state, checked_at)
      WHERE vods.stream_id = c.stream_id AND vods.start_time = c.start_time
        AND (vods.playable_checked_at IS NULL OR vods.playable_checked_at < c.checked_at)`);
    return result.rowCount ?? 0;
  });
}
