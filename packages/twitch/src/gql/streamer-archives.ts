import { gql } from "graphql-request";
import { z } from "zod";
import { LOGIN, twitchId } from "./bounds.ts";
import { parseVodPath, timestampCandidates, type TimestampVariant } from "../vod-path.ts";

/** A streamer's recent past broadcasts and whether its archives are for subscribers only. */
export const STREAMER_ARCHIVES_QUERY = gql`
  query StreamerArchives($id: ID!, $first: Int!) {
    user(id: $id) {
      id
      stream {
        id
        createdAt
      }
      videos(first: $first, type: ARCHIVE, sort: TIME) {
        edges {
          node {
            id
            createdAt
            seekPreviewsURL
            status
            broadcastType
          }
        }
        pageInfo {
          hasNextPage
        }
      }
      subscriptionProducts {
        hasSubonlyVideoArchive
      }
    }
  }
`;

export const ARCHIVES_PAGE_SIZE = 30;

export function streamerArchivesVariables(streamerId: string, first = ARCHIVES_PAGE_SIZE): Record<string, unknown> {
  return { id: streamerId, first };
}

/** The same listing asked by login, for a tracker link that names the login alone; the answer carries `user.id`. */
export const STREAMER_ARCHIVES_BY_LOGIN_QUERY = STREAMER_ARCHIVES_QUERY.replace(
  "StreamerArchives($id: ID!",
  "StreamerArchivesByLogin($login: String!",
).replace("user(id: $id)", "user(login: $login)");

export function streamerArchivesByLoginVariables(login: string, first = ARCHIVES_PAGE_SIZE): Record<string, unknown> {
  return { login, first };
}

/** What an archive listing tells about one VOD; null where the answer does not say. */
export interface Visibility {
  public: boolean | null;
  subOnly: boolean | null;
  /** Host of the matching seekPreviewsURL: where the streamer's VODs live (a hint). */
  domain?: string;
}

// Untrusted: a URL or time too long to be Twitch's makes that video unreadable, not the listing.
const node = z.object({
  // The video id (twitch.tv/videos/{id}); one out of bounds is left unknown, the video still read.
  id: twitchId.nullish().catch(null),
  createdAt: z.string().max(40).nullish(),
  seekPreviewsURL: z.string().max(2048).nullish(),
});

const answer = z.object({
  user: z
    .object({
      stream: z
        .object({ id: twitchId.nullish().catch(null), createdAt: z.string().max(40).nullish().catch(null) })
        .nullish(),
      videos: z
        .object({
          edges: z.array(z.object({ node: z.unknown() }).nullable()).nullish(),
          pageInfo: z.object({ hasNextPage: z.boolean().nullish() }).nullish(),
        })
        .nullish(),
      subscriptionProducts: z.array(z.object({ hasSubonlyVideoArchive: z.boolean().nullish() }).nullable()).nullish(),
    })
    .nullable(),
});

const UNKNOWN: Visibility = { public: null, subOnly: null };

/** What a streamer archives answer says of one VOD: parsed, then read with `listingVisibility`. */
export function parseStreamerArchives(data: unknown, streamId: string, startTime: string): Visibility {
  const listing = parseArchiveListing(data);
  return listing ? listingVisibility(listing, streamId, startTime) : UNKNOWN;
}

/** One ARCHIVE video of a listing, read from its seekPreviewsURL: where its playlist lives. */
export interface ListedVod {
  /** CDN host named by seekPreviewsURL. */
  domain: string;
  /** `{hash}_{login}_{streamId}_{ts}`: the playlist is `{key}/chunked/index-dvr.m3u8` on `domain`. */
  key: string;
  login: string;
  streamId: string;
  ts: number;
  createdAtMs: number | null;
  /** The video's id (twitch.tv/videos/{id}); null when the node had none readable. */
  videoId: string | null;
}

/** A streamer's listing as the fetcher uses it. */
export interface ArchiveListing {
  videos: ListedVod[];
  subOnly: boolean | null;
  /** Every archive is on this page (no next page). */
  complete: boolean;
  /** Oldest createdAt on the page (ms); Infinity when empty. */
  oldestMs: number;
  /** Some nodes could not be read: an absence from this listing proves nothing. */
  unreadable: boolean;
  /** The streamer's stream live now, if any. */
  live: { streamId: string; startMs: number } | null;
}

/** Reads a StreamerArchives answer; null when the user is unknown or the shape is not Twitch's. */
export function parseArchiveListing(data: unknown): ArchiveListing | null {
  const parsed = answer.safeParse(data);
  if (!parsed.success || parsed.data.user === null) return null;
  const { videos, subscriptionProducts, stream } = parsed.data.user;
  const flags = (subscriptionProducts ?? []).map((p) => p?.hasSubonlyVideoArchive ?? null);
  const subOnly = flags.includes(true) ? true : flags.length > 0 && flags.every((f) => f === false) ? false : null;
  const liveStart = stream?.createdAt ? Date.parse(stream.createdAt) : NaN;
  const live = stream?.id && !Number.isNaN(liveStart) ? { streamId: stream.id, startMs: liveStart } : null;
  const listing: ArchiveListing = {
    videos: [],
    subOnly,
    complete: videos?.pageInfo?.hasNextPage === false,
    oldestMs: Infinity,
    unreadable: !videos,
    live,
  };
  for (const edge of videos?.edges ?? []) {
    const n = node.safeParse(edge?.node);
    const url = n.success ? n.data.seekPreviewsURL : null;
    const created = n.success && n.data.createdAt ? Date.parse(n.data.createdAt) : NaN;
    const listed = url ? listedVodOf(url, Number.isNaN(created) ? null : created, n.data?.id ?? null) : null;
    if (!listed || Number.isNaN(created)) {
      listing.unreadable = true;
      if (!listed) continue;
    }
    listing.videos.push(listed);
    if (!Number.isNaN(created)) listing.oldestMs = Math.min(listing.oldestMs, created);
  }
  return listing;
}

function listedVodOf(url: string, createdAtMs: number | null, videoId: string | null): ListedVod | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const key = parsed.pathname.split("/").find((part) => parseVodPath(part) !== null);
  const p = key === undefined ? null : parseVodPath(key);
  if (!p || !parsed.hostname || !LOGIN.test(p.login) || !twitchId.safeParse(p.streamId).success) return null;
  return {
    domain: parsed.hostname.toLowerCase(),
    key: key as string,
    login: p.login,
    streamId: p.streamId,
    ts: p.ts,
    createdAtMs,
    videoId,
  };
}

/**
 * The listed video that is this VOD: same stream id and a path ts that is one of the VOD's
 * timestamp forms. A same-id restart lists two videos of one stream id, so among matches the one
 * created closest to the VOD's start wins, then the likelier form (start, −1 s, seconds field).
 */
export function matchListedVod(
  listing: ArchiveListing,
  streamId: string,
  startTime: string,
): { vod: ListedVod; variant: TimestampVariant } | null {
  const start = Date.parse(startTime);
  const forms = timestampCandidates(new Date(start));
  let best: { vod: ListedVod; variant: TimestampVariant; gap: number; rank: number } | null = null;
  for (const vod of listing.videos) {
    if (vod.streamId !== streamId) continue;
    const rank = forms.findIndex((f) => f.ts === vod.ts);
    if (rank < 0) continue;
    const gap = vod.createdAtMs === null ? Number.MAX_SAFE_INTEGER : Math.abs(vod.createdAtMs - start);
    if (!best || gap < best.gap || (gap === best.gap && rank < best.rank))
      best = { vod, variant: forms[rank]!.variant, gap, rank };
  }
  return best && { vod: best.vod, variant: best.variant };
}

/**
 * Public when the listing holds the VOD (by its whole key, see `matchListedVod`), with the host that
 * serves it; not public only when the listing covers its start; unknown otherwise.
 */
export function listingVisibility(listing: ArchiveListing, streamId: string, startTime: string): Visibility {
  const match = matchListedVod(listing, streamId, startTime);
  if (match) return { public: true, subOnly: listing.subOnly, domain: match.vod.domain };
  return { public: listingCovers(listing, startTime) ? false : null, subOnly: listing.subOnly };
}

/**
 * Whether a VOD's absence from the listing means it is not listed: the page reaches back past its
 * start (or holds every archive) and every node was readable.
 */
export function listingCovers(listing: ArchiveListing, startTime: string): boolean {
  return !listing.unreadable && (listing.complete || listing.oldestMs < Date.parse(startTime));
}
