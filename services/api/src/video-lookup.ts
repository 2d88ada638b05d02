import type { ReadPool } from "./db.ts";
import { bigintId } from "./params.ts";
import { V1_ITEM_SQL } from "./vods.ts";

/** A Twitch video id (twitch.tv/videos/{id}) as a parameter: digits that fit the bigint column. */
export const videoIdParam = bigintId("a video id");

/**
 * The archived VOD a Twitch video id names, as the v1 API's item (JSON text), from the archive alone:
 * no CDN or GraphQL request. Null when no VOD of the archive was listed under that id.
 */
export async function vodByVideoId(db: ReadPool, videoId: string, signal?: AbortSignal): Promise<string | null> {
  const rows = await db.read<{ body: string }>(
    // One video per VOD; should two rows ever carry an id, the newest is the one Twitch shows.
    `select ${V1_ITEM_SQL}::text as body from vods where video_id = $1 order by start_time desc limit 1`,
    [videoId],
    signal,
  );
  return rows[0]?.body ?? null;
}
