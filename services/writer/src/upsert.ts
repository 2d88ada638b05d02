import { sql } from "drizzle-orm";
import { vods, type Tx } from "@vod/db";
import type { ResultRow, SnapshotRow } from "./merge.ts";

// The at-start fields are taken from the earliest observation; a row created by a fetch result has none yet.
const TAKE_START = "(vods.start_fields_seen_at IS NULL OR excluded.start_fields_seen_at < vods.start_fields_seen_at)";
const START_FIELDS = ["login", "title", "game_id", "game_name", "language", "mature", "start_fields_seen_at"];

/**
 * One statement for the whole batch: arrays passed as 13 parameters and `unnest`ed, which has no
 * 65,535-parameter ceiling and is faster than a VALUES list (docs/benchmarks.md). The update runs only
 * when something would change, so a replay writes no new row versions.
 */
export async function upsertSnapshots(tx: Tx, rows: readonly SnapshotRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <T>(f: (r: SnapshotRow) => T) => sql.param(rows.map(f));
  const result = await tx.execute(sql`
    INSERT INTO vods (stream_id, start_time, streamer_id, login, title, game_id, game_name, language, mature, start_fields_seen_at, max_viewers, first_seen, last_seen)
    SELECT * FROM unnest(
      ${col((r) => r.streamId)}::bigint[], ${col((r) => r.startTime)}::timestamptz[], ${col((r) => r.streamerId)}::bigint[],
      ${col((r) => r.login)}::text[], ${col((r) => r.title)}::text[], ${col((r) => r.gameId)}::text[], ${col((r) => r.gameName)}::text[],
      ${col((r) => r.language)}::text[], ${col((r) => r.mature)}::boolean[], ${col((r) => r.startFieldsSeenAt)}::timestamptz[],
      ${col((r) => r.maxViewers)}::int[], ${col((r) => r.firstSeen)}::timestamptz[], ${col((r) => r.lastSeen)}::timestamptz[]
    ) AS u ORDER BY 1, 2
    ON CONFLICT (stream_id, start_time) DO UPDATE SET
      max_viewers = greatest(vods.max_viewers, excluded.max_viewers),
      first_seen = least(vods.first_seen, excluded.first_seen),
      last_seen = greatest(vods.last_seen, excluded.last_seen),
      ${sql.raw(START_FIELDS.map((c) => `${c} = CASE WHEN ${TAKE_START} THEN excluded.${c} ELSE vods.${c} END`).join(",\n      "))},
      updated_at = now()
    WHERE excluded.max_viewers > vods.max_viewers
      OR excluded.last_seen > vods.last_seen
      OR excluded.first_seen < vods.first_seen
      OR ${sql.raw(TAKE_START)}`);
  return result.rowCount ?? 0;
}

const RANK = (t: string) =>
  `CASE ${t}.outcome WHEN 'found' THEN 3 WHEN 'not_found' THEN 2 WHEN 'failed' THEN 1 ELSE 0 END`;
// Same order as outcomeBeats: a better outcome, or an equal one fetched later.
const BEATS = `(${RANK("excluded")} > ${RANK("vods")} OR (${RANK("excluded")} = ${RANK("vods")} AND excluded.fetched_at > vods.fetched_at))`;
const OUTCOME_FIELDS = [
  "outcome",
  "fetched_at",
  "fetch_requests",
  "domain",
  "url",
  "ts_variant",
  "duration_seconds",
  "segment_count",
  "muted_count",
  "playlist_gz",
  "fetch_error",
];
// joinKnown in SQL: `a OR b` is null when one side is null and the other false, then coalesce picks the known one.
const JOIN_KNOWN = (c: string) => `coalesce(vods.${c} OR excluded.${c}, vods.${c}, excluded.${c})`;
const KEEP_VIDEO_ID = "coalesce(excluded.video_id, vods.video_id)";
// Bounded so a batch of found playlists stays well under the parameter limit and a sane statement size.
const RESULT_CHUNK = 500;

/** Multi-row upsert of fetch outcomes; the playlist is stored gzipped, as it came. */
export async function upsertResults(tx: Tx, rows: readonly ResultRow[]): Promise<number> {
  let changed = 0;
  for (let i = 0; i < rows.length; i += RESULT_CHUNK) {
    const values = rows.slice(i, i + RESULT_CHUNK).map((r) => {
      const f = r.result.found;
      return {
        streamId: Number(r.streamId),
        startTime: new Date(r.startTime),
        streamerId: Number(r.streamerId),
        login: r.login,
        maxViewers: r.maxViewers,
        firstSeen: new Date(r.firstSeen),
        lastSeen: new Date(r.lastSeen),
        outcome: r.result.outcome,
        fetchedAt: new Date(r.result.fetchedAt),
        fetchRequests: r.result.requests,
        domain: f?.domain ?? null,
        url: f?.url ?? null,
        tsVariant: f?.variant ?? null,
        durationSeconds: f?.durationSeconds ?? null,
        segmentCount: f?.segments ?? null,
        mutedCount: f?.mutedSegments ?? null,
        playlistGz: f ? Buffer.from(f.playlistGzipBase64, "base64") : null,
        fetchError: r.result.error,
        public: r.public,
        subOnly: r.subOnly,
        // As text: a JS number loses digits past 2^53, which a bigint id may have.
        videoId: r.videoId === null ? null : sql`${r.videoId}::bigint`,
      };
    });
    const result = await tx
      .insert(vods)
      .values(values)
      .onConflictDoUpdate({
        target: [vods.streamId, vods.startTime],
        set: {
          maxViewers: sql.raw(`greatest(vods.max_viewers, excluded.max_viewers)`),
          firstSeen: sql.raw(`least(vods.first_seen, excluded.first_seen)`),
          lastSeen: sql.raw(`greatest(vods.last_seen, excluded.last_seen)`),
          ...Object.fromEntries(
            OUTCOME_FIELDS.map((c) => [camel(c), sql.raw(`CASE WHEN ${BEATS} THEN excluded.${c} ELSE vods.${c} END`)]),
          ),
          public: sql.raw(JOIN_KNOWN("public")),
          subOnly: sql.raw(JOIN_KNOWN("sub_only")),
          // A result without a video id (not listed, or an older fetcher) never clears one.
          videoId: sql.raw(KEEP_VIDEO_ID),
          updatedAt: sql`now()`,
        },
        setWhere: sql.raw(
          `excluded.max_viewers > vods.max_viewers OR excluded.last_seen > vods.last_seen OR excluded.first_seen < vods.first_seen OR ${BEATS}` +
            ` OR ${JOIN_KNOWN("public")} IS DISTINCT FROM vods.public OR ${JOIN_KNOWN("sub_only")} IS DISTINCT FROM vods.sub_only` +
            ` OR ${KEEP_VIDEO_ID} IS DISTINCT FROM vods.video_id`,
        ),
      });
    changed += result.rowCount ?? 0;
  }
  return changed;
}

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
