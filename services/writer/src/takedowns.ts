import { sql } from "drizzle-orm";
import { TAKEDOWN_LOCK, type Tx } from "@vod/db";

interface StreamerRow {
  streamerId: string;
  login: string;
}

/**
 * Splits a batch's rows into those to write and those of streamers who asked to be left out (a
 * takedown names their streamer id, or their login when it recorded no id), in the upsert's transaction.
 *
 * Why a lock and not a NOT EXISTS alone: under READ COMMITTED a statement sees what had committed when it
 * began, so a batch that began before a forget committed would insert its rows after the forget's delete
 * had run, and they would stay. Each batch holds TAKEDOWN_LOCK shared from before it reads the takedowns
 * until it commits; a forget takes it exclusively. So a forget waits for the batches in flight (its delete
 * then sees their rows), and a batch that starts meanwhile waits for the forget to commit (its read then
 * sees the takedown). Batches share the lock, so they never wait for each other.
 */
export async function withoutTakenDown<R extends StreamerRow>(
  tx: Tx,
  rows: readonly R[],
): Promise<{ kept: R[]; skipped: number }> {
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${TAKEDOWN_LOCK})`);
  if (rows.length === 0) return { kept: [], skipped: 0 };
  const ids = [...new Set(rows.map((r) => r.streamerId))];
  const logins = [...new Set(rows.map((r) => r.login))];
  const { rows: found } = await tx.execute<{ streamer_id: string | null; login: string }>(sql`
    select streamer_id::text, login from takedowns
     where streamer_id = any(${sql.param(ids)}::bigint[])
        or (streamer_id is null and login = any(${sql.param(logins)}::text[]))`);
  if (found.length === 0) return { kept: [...rows], skipped: 0 };
  const byId = new Set(found.flatMap((t) => (t.streamer_id === null ? [] : [t.streamer_id])));
  const byLogin = new Set(found.flatMap((t) => (t.streamer_id === null ? [t.login] : [])));
  const kept = rows.filter((r) => !byId.has(r.streamerId) && !byLogin.has(r.login));
  return { kept, skipped: rows.length - kept.length };
}
