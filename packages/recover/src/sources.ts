import { gunzipSync } from "node:zlib";
import { desc, eq, sql, type SQL } from "drizzle-orm";
import { cdnDomainHealth, cdnStreamerDomains, vods, type Db } from "@vod/db";
import type { StartTime } from "./input.ts";
import {
  createGqlBatchClient,
  matchListedVod,
  parseArchiveListing,
  parseVodPath,
  STREAMER_ARCHIVES_BY_LOGIN_QUERY,
  streamerArchivesByLoginVariables,
  type ArchiveListing,
  type GqlBatchClient,
  type ListedVod,
} from "@vod/twitch";

/** A row of our archive for the stream id asked about. */
export interface ArchivedVod {
  streamId: string;
  streamerId: string;
  login: string;
  startMs: number;
  outcome: "found" | "not_found" | "failed" | null;
  domain: string | null;
  url: string | null;
  segments: number | null;
  /** The stored playlist (already playable), when found. */
  playlist: string | null;
}

/** Our archive's rows for a stream id, newest first (a same-id restart has two). */
export function archivedVods(db: Db, streamId: string): Promise<ArchivedVod[]> {
  return archivedRows(db, eq(vods.streamId, Number(streamId)));
}

/** Our archive's row of the VOD a Twitch video id names (the listing named it when it was fetched). */
export async function archivedVideo(db: Db, videoId: string): Promise<ArchivedVod | undefined> {
  // As text: a JS number loses digits past 2^53, which a bigint id may have.
  return (await archivedRows(db, sql`${vods.videoId} = ${videoId}::bigint`))[0];
}

async function archivedRows(db: Db, where: SQL): Promise<ArchivedVod[]> {
  const rows = await db
    .select({
      streamId: vods.streamId,
      streamerId: vods.streamerId,
      login: vods.login,
      startTime: vods.startTime,
      outcome: vods.outcome,
      domain: vods.domain,
      url: vods.url,
      segments: vods.segmentCount,
      playlistGz: vods.playlistGz,
    })
    .from(vods)
    .where(where)
    .orderBy(desc(vods.startTime));
  return rows.map((r) => ({
    streamId: String(r.streamId),
    streamerId: String(r.streamerId),
    login: r.login,
    startMs: r.startTime.getTime(),
    outcome: r.outcome,
    domain: r.domain,
    url: r.url,
    segments: r.segments,
    playlist: r.outcome === "found" && r.playlistGz ? gunzipSync(r.playlistGz).toString("utf8") : null,
  }));
}

/** The streamer id our archive knows for a login (its latest VOD's). */
export async function streamerIdOf(db: Db, login: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: vods.streamerId })
    .from(vods)
    .where(eq(vods.login, login))
    .orderBy(desc(vods.startTime))
    .limit(1);
  return row ? String(row.id) : undefined;
}

/** What the fetcher learned, as it stored it: a streamer's last domain, and every domain's health. */
export interface Learned {
  streamerDomain: string | undefined;
  /** Success score per domain, decayed to now with the fetcher's half-life. */
  scores: Map<string, number>;
  /** Domains the fetcher learned from GQL, not configured. */
  discovered: string[];
}

export async function learned(
  db: Db,
  streamerId: string | undefined,
  nowMs: number,
  halfLifeMs: number,
): Promise<Learned> {
  let streamerDomain: string | undefined;
  if (streamerId !== undefined) {
    const [row] = await db
      .select({ domain: cdnStreamerDomains.domain })
      .from(cdnStreamerDomains)
      .where(eq(cdnStreamerDomains.streamerId, Number(streamerId)));
    streamerDomain = row?.domain ?? undefined;
  }
  const scores = new Map<string, number>();
  const discovered: string[] = [];
  const rows = await db
    .select()
    .from(cdnDomainHealth)
    .orderBy(sql`${cdnDomainHealth.discoveredAt} nulls first`);
  for (const r of rows) {
    scores.set(r.domain, r.score * 2 ** (-Math.max(0, nowMs - r.scoredAt.getTime()) / halfLifeMs));
    if (r.discoveredAt) discovered.push(r.domain);
  }
  return { streamerDomain, scores, discovered };
}

export interface StreamerListing {
  streamerId: string;
  listing: ArchiveListing;
}

/** A streamer's archive listing by login (one POST, with a timeout); null when GQL does not answer or knows no such user. */
export async function listingByLogin(
  client: GqlBatchClient,
  login: string,
  signal?: AbortSignal,
): Promise<StreamerListing | null> {
  const [result] = await client.batch(
    [{ document: STREAMER_ARCHIVES_BY_LOGIN_QUERY, variables: streamerArchivesByLoginVariables(login) }],
    signal,
  );
  if (!result?.ok) return null;
  const listing = parseArchiveListing(result.data);
  const id = (result.data as { user?: { id?: unknown } | null }).user?.id;
  return listing && typeof id === "string" ? { streamerId: id, listing } : null;
}

/**
 * The listed video of a stream id at the time given: for an exact time one whose path ts is a form
 * of it (`matchListedVod`), for a minute one whose ts or creation falls in it; without a
 * time the newest. A same-id restart lists two videos of one stream id, minutes apart.
 */
export function listedVideoOf(listing: ArchiveListing, streamId: string, time?: StartTime): ListedVod | undefined {
  if (time === undefined) return listing.videos.find((v) => v.streamId === streamId);
  if (time.precision === "second") return matchListedVod(listing, streamId, new Date(time.ms).toISOString())?.vod;
  const from = time.ms / 1000 - 1;
  // A same-id restart's path ts is the seconds field: its createdAt tells the minute.
  const inMinute = (v: ListedVod) =>
    (v.ts >= from && v.ts < from + 61) ||
    (v.createdAtMs !== null && v.createdAtMs >= time.ms && v.createdAtMs < time.ms + 60_000);
  return listing.videos.find((v) => v.streamId === streamId && inMinute(v));
}

/** A video by id: Twitch answers only for a video it still shows (public, or sub-only). */
export const VIDEO_QUERY = `
  query RecoverVideo($id: ID!) {
    video(id: $id) {
      id
      createdAt
      broadcastType
      seekPreviewsURL
      owner {
        id
        login
      }
    }
  }
`;

export interface VideoLookup {
  login: string;
  streamerId: string;
  streamId: string;
  domain: string;
  key: string;
  ts: number;
  /** The video's createdAt: the stream's start. */
  startMs: number | null;
}

/**
 * What a Twitch video id says of its stream, from its seekPreviewsURL; null when Twitch no longer
 * shows the video (deleted, hidden) or it is not a past broadcast.
 */
export async function videoById(
  client: GqlBatchClient,
  videoId: string,
  signal?: AbortSignal,
): Promise<VideoLookup | null> {
  const [result] = await client.batch([{ document: VIDEO_QUERY, variables: { id: videoId } }], signal);
  if (!result?.ok) return null;
  const video = (
    result.data as {
      video?: {
        createdAt?: unknown;
        broadcastType?: unknown;
        seekPreviewsURL?: unknown;
        owner?: { id?: unknown; login?: unknown } | null;
      } | null;
    }
  ).video;
  if (!video || typeof video.seekPreviewsURL !== "string" || video.broadcastType !== "ARCHIVE") return null;
  let url: URL;
  try {
    url = new URL(video.seekPreviewsURL);
  } catch {
    return null;
  }
  const key = url.pathname.split("/").find((part) => parseVodPath(part) !== null);
  const parsed = key === undefined ? null : parseVodPath(key);
  if (!parsed || key === undefined) return null;
  const streamerId = typeof video.owner?.id === "string" ? video.owner.id : "";
  const created = typeof video.createdAt === "string" ? Date.parse(video.createdAt) : NaN;
  return {
    login: parsed.login,
    streamerId,
    streamId: parsed.streamId,
    domain: url.hostname.toLowerCase(),
    key,
    ts: parsed.ts,
    startMs: Number.isNaN(created) ? null : created,
  };
}

export { createGqlBatchClient };
