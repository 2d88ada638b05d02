import { sql } from "drizzle-orm";
import { TAKEDOWN_LOCK, withTransaction, type Db } from "@vod/db";

export interface Forgotten {
  takedownId: number;
  at: Date;
  login: string;
  /** From the archive (a VOD of the login, or an earlier takedown of it); null when it knew none. */
  streamerId: string | null;
  vods: number;
  followups: number;
  domains: number;
}

/**
 * Records a takedown and removes what the archive holds of the streamer, in one transaction: its VODs
 * (by streamer id and by login), each with a tombstone so the API answers 410 for its links, the
 * fetcher's follow-ups and what it learned of the streamer's domain. The exclusive TAKEDOWN_LOCK waits
 * for the writer's batches in flight and holds back new ones until this commits (see the writer's
 * takedowns.ts), so no row of the streamer written meanwhile survives.
 */
export async function forget(db: Db, login: string, reason: string): Promise<Forgotten> {
  return withTransaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${TAKEDOWN_LOCK})`);
    const { rows } = await tx.execute<{ id: string; at: Date; streamer_id: string | null; removed_vods: number }>(sql`
      with known as (
        select coalesce(
          (select streamer_id from vods where login = ${login} order by start_time desc limit 1),
          (select streamer_id from takedowns where login = ${login} and streamer_id is not null order by at desc limit 1)
        ) as streamer_id
      ),
      removed as (
        delete from vods where streamer_id = (select streamer_id from known) or login = ${login}
        returning stream_id, start_time, streamer_id, login, video_id
      ),
      takedown as (
        insert into takedowns (login, streamer_id, reason, removed_vods)
        select ${login}, (select streamer_id from known), ${reason}, (select count(*) from removed)
        returning id, at, streamer_id, removed_vods
      ),
      tombstones as (
        insert into takedown_vods (takedown_id, stream_id, start_time, streamer_id, login, video_id)
        select t.id, r.stream_id, r.start_time, r.streamer_id, r.login, r.video_id from removed r, takedown t
      )
      select id::text, at, streamer_id::text, removed_vods from takedown`);
    const t = rows[0]!;
    const followups = await tx.execute(sql`
      delete from fetch_followups where request->>'login' = ${login} or request->>'streamerId' = ${t.streamer_id}`);
    const domains = await tx.execute(sql`delete from cdn_streamer_domains where streamer_id = ${t.streamer_id}`);
    return {
      takedownId: Number(t.id),
      at: new Date(t.at),
      login,
      streamerId: t.streamer_id,
      vods: t.removed_vods,
      followups: followups.rowCount ?? 0,
      domains: domains.rowCount ?? 0,
    };
  });
}
