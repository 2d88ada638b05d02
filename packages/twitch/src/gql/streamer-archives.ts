import { gql } from "graphql-request";
import { z } from "zod";

/** A streamer's recent past broadcasts and whether its archives are for subscribers only. */
export const STREAMER_ARCHIVES_QUERY = gql`
  query StreamerArchives($id: ID!, $first: Int!) {
    user(id: $id) {
      id
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

/** What an archive listing tells about one VOD; null where the answer does not say. */
export interface Visibility {
  public: boolean | null;
  subOnly: boolean | null;
  /** Host of the matching seekPreviewsURL: where the streamer's VODs live (a hint). */
  domain?: string;
}

const node = z.object({
  createdAt: z.string().nullish(),
  seekPreviewsURL: z.string().nullish(),
});

const answer = z.object({
  user: z
    .object({
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

/**
 * Public when a listed ARCHIVE video's seekPreviewsURL names the stream id in its path key
 * (`{hash}_{login}_{streamId}_{ts}`). Not public only when the listing reaches back past the
 * VOD's start (or is complete); an older VOD beyond the page stays unknown.
 */
export function parseStreamerArchives(data: unknown, streamId: string, startTime: string): Visibility {
  const parsed = answer.safeParse(data);
  if (!parsed.success || parsed.data.user === null) return UNKNOWN;
  const { videos, subscriptionProducts } = parsed.data.user;

  let subOnly: boolean | null = null;
  const flags = (subscriptionProducts ?? []).map((p) => p?.hasSubonlyVideoArchive ?? null);
  if (flags.includes(true)) subOnly = true;
  else if (flags.length > 0 && flags.every((f) => f === false)) subOnly = false;

  if (!videos) return { public: null, subOnly };
  const edges = videos.edges ?? [];
  let oldest = Infinity;
  let unreadable = false;
  for (const edge of edges) {
    const n = node.safeParse(edge?.node);
    if (!n.success || !edge?.node) {
      unreadable = true;
      continue;
    }
    const url = n.data.seekPreviewsURL;
    if (url && keyHasStream(url, streamId)) {
      const domain = hostOf(url);
      return { public: true, subOnly, ...(domain ? { domain } : {}) };
    }
    const created = n.data.createdAt ? Date.parse(n.data.createdAt) : NaN;
    if (Number.isNaN(created) || !url) unreadable = true;
    else oldest = Math.min(oldest, created);
  }
  if (unreadable) return { public: null, subOnly };
  const start = Date.parse(startTime);
  const complete = videos.pageInfo?.hasNextPage === false;
  const reachesBack = oldest < start;
  return { public: complete || reachesBack ? false : null, subOnly };
}

function keyHasStream(url: string, streamId: string): boolean {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return false;
  }
  return path.split("/").some((part) => part.includes(`_${streamId}_`));
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}
