/** The columns every VOD answer is built from (never the playlist bytes). */
export const VOD_COLUMNS = `id, stream_id, start_time, streamer_id, login, title, game_id, game_name, language, mature,
  max_viewers, outcome, fetched_at, duration_seconds, segment_count, muted_count, public, sub_only, last_seen`;

export interface VodRow {
  id: string;
  stream_id: string;
  start_time: Date;
  streamer_id: string;
  login: string;
  title: string | null;
  game_id: string | null;
  game_name: string | null;
  language: string | null;
  mature: boolean | null;
  max_viewers: number;
  outcome: "found" | "not_found" | "failed" | null;
  fetched_at: Date | null;
  duration_seconds: number | null;
  segment_count: number | null;
  muted_count: number | null;
  public: boolean | null;
  sub_only: boolean | null;
  last_seen: Date;
}

/** RFC 3339 in UTC: whole seconds without a fraction, otherwise exactly three digits. */
export function rfc3339(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

export function unixSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

export function playlistPath(streamId: string | number, start: Date): string {
  return `/m3u8/${streamId}/${unixSeconds(start)}/index.m3u8`;
}

/** public / sub_only / hidden (archived but neither listed nor sub-only) / unknown (not known yet). */
export type Visibility = "public" | "sub_only" | "hidden" | "unknown";

export function visibilityOf(r: Pick<VodRow, "public" | "sub_only">): Visibility {
  if (r.public === true) return "public";
  if (r.sub_only === true) return "sub_only";
  if (r.public === false) return "hidden";
  return "unknown";
}

/** One item of the compatible list routes, with the original system's field names and nullable shapes. */
export function compatItem(r: VodRow) {
  return {
    Link: playlistPath(r.stream_id, r.start_time),
    Metadata: {
      ID: Number(r.id),
      MaxViews: r.max_viewers,
      StartTime: rfc3339(r.start_time),
      StreamerID: Number(r.streamer_id),
      StreamID: Number(r.stream_id),
      StreamerLoginAtStart: r.login,
      GameNameAtStart: r.game_name ?? "",
      LanguageAtStart: r.language ?? "",
      TitleAtStart: r.title ?? "",
      IsMatureAtStart: r.mature ?? false,
      GameIDAtStart: r.game_id ?? "",
      BytesFound: { Bool: r.outcome === "found", Valid: r.outcome === "found" || r.outcome === "not_found" },
      Public: { Bool: r.public ?? false, Valid: r.public !== null },
      HlsDurationSeconds: { Float64: r.duration_seconds ?? 0, Valid: r.duration_seconds !== null },
      // Not archived: Twitch's box art and profile image URLs are not part of a stream snapshot.
      BoxArtUrlAtStart: { String: "", Valid: false },
      ProfileImageUrlAtStart: { String: "", Valid: false },
    },
  };
}

export type CompatItem = ReturnType<typeof compatItem>;

/** One VOD in the v1 API. */
export function v1Item(r: VodRow) {
  return {
    id: Number(r.id),
    streamId: r.stream_id,
    startTime: rfc3339(r.start_time),
    streamerId: r.streamer_id,
    login: r.login,
    title: r.title,
    gameId: r.game_id,
    gameName: r.game_name,
    language: r.language,
    mature: r.mature,
    maxViewers: r.max_viewers,
    lastSeen: rfc3339(r.last_seen),
    outcome: (r.outcome ?? "pending") as "found" | "not_found" | "failed" | "pending",
    fetchedAt: r.fetched_at ? rfc3339(r.fetched_at) : null,
    visibility: visibilityOf(r),
    durationSeconds: r.duration_seconds,
    segments: r.segment_count,
    mutedSegments: r.muted_count,
    mutedShare: r.segment_count && r.muted_count !== null ? r.muted_count / r.segment_count : null,
    playlist: r.outcome === "found" ? playlistPath(r.stream_id, r.start_time) : null,
  };
}

export type V1Item = ReturnType<typeof v1Item>;
