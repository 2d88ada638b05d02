/**
 * VODs as the API answers them, built as JSON by PostgreSQL: a page of 50 rows costs the server
 * a fraction of a millisecond in C, where parsing the rows in Node and serializing them again cost
 * close to one (measured: about 0.8 ms of CPU per 50-row page), the API's largest cost by far.
 */

/** RFC 3339 in UTC: whole seconds without a fraction, otherwise exactly three digits. */
export function rfc3339Sql(col: string): string {
  return `(to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || case when date_part('milliseconds', ${col})::int % 1000 = 0 then '' else to_char(${col} at time zone 'UTC', '.MS') end || 'Z')`;
}

export const UNIX_SQL = "floor(extract(epoch from start_time))::bigint";
export const LINK_SQL = `('/m3u8/' || stream_id || '/' || ${UNIX_SQL} || '/index.m3u8')`;

/** One item of the compatible routes, with the original system's field names and nullable shapes. */
export const COMPAT_ITEM_SQL = `json_build_object(
  'Link', ${LINK_SQL},
  'Metadata', json_build_object(
    'ID', id,
    'MaxViews', max_viewers,
    'StartTime', ${rfc3339Sql("start_time")},
    'StreamerID', streamer_id,
    'StreamID', stream_id,
    'StreamerLoginAtStart', login,
    'GameNameAtStart', coalesce(game_name, ''),
    'LanguageAtStart', coalesce(language, ''),
    'TitleAtStart', coalesce(title, ''),
    'IsMatureAtStart', coalesce(mature, false),
    'GameIDAtStart', coalesce(game_id, ''),
    'BytesFound', json_build_object('Bool', coalesce(outcome = 'found', false), 'Valid', coalesce(outcome in ('found', 'not_found'), false)),
    'Public', json_build_object('Bool', coalesce(public, false), 'Valid', public is not null),
    'HlsDurationSeconds', json_build_object('Float64', coalesce(duration_seconds, 0), 'Valid', duration_seconds is not null),
    -- Not archived: Twitch's box art and profile image URLs are not part of a stream snapshot.
    'BoxArtUrlAtStart', json_build_object('String', '', 'Valid', false),
    'ProfileImageUrlAtStart', json_build_object('String', '', 'Valid', false)))`;

/** public / sub_only / hidden (archived, neither listed nor sub-only) / unknown (not known yet). */
export const VISIBILITY_SQL = `case when public then 'public' when sub_only then 'sub_only' when public = false then 'hidden' else 'unknown' end`;

/** One VOD in the v1 API. Ids are strings: stream ids pass 2^53 one day, and JSON numbers lose them. */
export const V1_ITEM_SQL = `json_build_object(
  'id', id,
  'streamId', stream_id::text,
  'startTime', ${rfc3339Sql("start_time")},
  'streamerId', streamer_id::text,
  'login', login,
  'title', title,
  'gameId', game_id,
  'gameName', game_name,
  'language', language,
  'mature', mature,
  'maxViewers', max_viewers,
  'lastSeen', ${rfc3339Sql("last_seen")},
  'outcome', coalesce(outcome, 'pending'),
  'fetchedAt', case when fetched_at is null then null else ${rfc3339Sql("fetched_at")} end,
  'visibility', ${VISIBILITY_SQL},
  'durationSeconds', duration_seconds,
  'segments', segment_count,
  'mutedSegments', muted_count,
  'mutedShare', case when segment_count > 0 and muted_count is not null then muted_count::float8 / segment_count end,
  'playlist', case when outcome = 'found' then ${LINK_SQL} end,
  'videoId', video_id::text,
  'playable', case when playable_checked_at is null then null
    else json_build_object('state', playable, 'checkedAt', ${rfc3339Sql("playable_checked_at")}) end)`;

/** Every column the items above read (never the playlist bytes). */
export const ITEM_COLUMNS = `id, stream_id, start_time, streamer_id, login, title, game_id, game_name, language, mature,
  max_viewers, outcome, fetched_at, duration_seconds, segment_count, muted_count, public, sub_only, last_seen, video_id,
  playable, playable_checked_at`;

/** A JSON array of `item` over the rows of `from` (a subquery), in `order`; `[]` when there are none. */
export function jsonArraySql(item: string, from: string, order: string): string {
  return `select coalesce(json_agg(${item} order by ${order}), '[]')::text as body from (${from}) v`;
}

export function rfc3339(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}
