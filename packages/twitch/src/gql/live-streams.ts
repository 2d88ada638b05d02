import { gql } from "graphql-request";
import { z } from "zod";
import { cutText, MAX_NAME_BYTES, MAX_TITLE_BYTES, twitchId, twitchLanguage, twitchLogin } from "./bounds.ts";

const STREAM_FIELDS = gql`
  fragment LiveStreamFields on Stream {
    id
    viewersCount
    createdAt
    type
    broadcaster {
      id
      login
      displayName
      broadcastSettings {
        title
        language
        isMature
      }
    }
    game {
      id
      name
      displayName
    }
  }
`;

/** One page of live streams, most viewers first (StreamOptions.sort defaults to VIEWER_COUNT). */
export const LIVE_STREAMS_QUERY = gql`
  query LiveStreams($first: Int!, $after: Cursor, $options: StreamOptions) {
    streams(first: $first, after: $after, options: $options) {
      edges {
        cursor
        node {
          ...LiveStreamFields
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
  ${STREAM_FIELDS}
`;

/**
 * The live streams of given broadcasters, by user id: streams a sweep's pages may have skipped
 * (viewer-ordered pages drift) are looked up directly.
 */
export const LIVE_USERS_QUERY = gql`
  query LiveUsers($ids: [ID!]) {
    users(ids: $ids) {
      id
      stream {
        ...LiveStreamFields
      }
    }
  }
  ${STREAM_FIELDS}
`;

/** User ids per `users(ids:)` operation: Helix's documented limit for the same lookup. */
export const MAX_USERS_PER_QUERY = 100;

export interface LiveStreamsVariables {
  first: number;
  after?: string | null;
  options?: { sort?: "VIEWER_COUNT"; languages?: string[] };
}

/** Variables for one page; `languages` (values of the Language enum) restricts it to those broadcasters. */
export function liveStreamsVariables(
  first: number,
  after: string | null,
  languages?: readonly string[],
): Record<string, unknown> {
  const options: LiveStreamsVariables["options"] = { sort: "VIEWER_COUNT" };
  if (languages && languages.length > 0) options.languages = [...languages];
  return { first, after, options } satisfies LiveStreamsVariables;
}

// Untrusted text (bounds.ts): a stream whose ids or login are out of bounds is dropped and counted;
// its title, category and type are cut, an odd language or category id reads as unknown.
const node = z.object({
  id: twitchId,
  viewersCount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  createdAt: z.iso.datetime({ offset: true }),
  type: cutText(32),
  broadcaster: z.object({
    id: twitchId,
    login: twitchLogin,
    broadcastSettings: z
      .object({
        title: cutText(MAX_TITLE_BYTES),
        language: twitchLanguage,
        isMature: z.boolean().nullish(),
      })
      .nullish(),
  }),
  game: z
    .object({
      id: z
        .string()
        .nullish()
        .transform((s) => (s && /^\d{1,19}$/.test(s) ? s : null)),
      name: cutText(MAX_NAME_BYTES),
    })
    .nullish(),
});

const page = z.object({
  streams: z.object({
    edges: z.array(z.unknown()).nullish(),
    pageInfo: z.object({ hasNextPage: z.boolean() }).nullish(),
  }),
});

/** A live stream as the sweep needs it; startTime is normalized to ISO with milliseconds. */
export interface LiveStream {
  streamId: string;
  startTime: string;
  streamerId: string;
  login: string;
  viewers: number;
  title: string | null;
  gameId: string | null;
  gameName: string | null;
  language: string | null;
  mature: boolean | null;
  /** "live", or e.g. "rerun"/"watch_party" on the real site. */
  type: string | null;
}

export interface LiveStreamsPage {
  streams: LiveStream[];
  /** Cursor of each edge, aligned with the raw edges; null where the edge had none. */
  cursors: (string | null)[];
  /** Viewers of each raw edge (null where unreadable): the sweep stops on these, valid or not. */
  viewers: (number | null)[];
  hasNextPage: boolean;
  /** Edges that were null or failed validation, with why. */
  dropped: string[];
}

export type PageParse = { ok: true; page: LiveStreamsPage } | { ok: false; reason: string };

/** Validates an answer edge by edge: one odd stream is dropped and counted, not the whole page. */
export function parseLiveStreamsPage(data: unknown): PageParse {
  const parsed = page.safeParse(data);
  if (!parsed.success)
    return {
      ok: false,
      reason: `unexpected answer shape: ${parsed.error.issues[0]?.message ?? "?"} at ${parsed.error.issues[0]?.path.join(".") ?? ""}`,
    };
  const edges = parsed.data.streams.edges ?? [];
  const result: LiveStreamsPage = {
    streams: [],
    cursors: [],
    viewers: [],
    hasNextPage: parsed.data.streams.pageInfo?.hasNextPage ?? false,
    dropped: [],
  };
  for (const edge of edges) {
    const e = (edge ?? {}) as { cursor?: unknown; node?: unknown };
    result.cursors.push(typeof e.cursor === "string" && e.cursor.length > 0 ? e.cursor : null);
    const v = (e.node as { viewersCount?: unknown } | null | undefined)?.viewersCount;
    result.viewers.push(typeof v === "number" ? v : null);
    if (e.node === null || e.node === undefined) {
      result.dropped.push("edge without a stream");
      continue;
    }
    const n = node.safeParse(e.node);
    if (!n.success) {
      const issue = n.error.issues[0];
      result.dropped.push(`invalid stream: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "?"}`);
      continue;
    }
    result.streams.push(toLiveStream(n.data));
  }
  return { ok: true, page: result };
}

function toLiveStream(s: z.output<typeof node>): LiveStream {
  const settings = s.broadcaster.broadcastSettings;
  return {
    streamId: s.id,
    startTime: new Date(s.createdAt).toISOString(),
    streamerId: s.broadcaster.id,
    login: s.broadcaster.login,
    viewers: s.viewersCount,
    title: settings?.title ?? null,
    gameId: s.game?.id ?? null,
    gameName: s.game?.name ?? null,
    language: settings?.language ?? null,
    mature: settings?.isMature ?? null,
    type: s.type ?? null,
  };
}

const users = z.object({ users: z.array(z.unknown()).nullish() });

export type LiveUsersParse = { ok: true; streams: LiveStream[]; dropped: string[] } | { ok: false; reason: string };

/** The live streams among the users answered (a user offline or unknown has none); odd ones dropped with why. */
export function parseLiveUsers(data: unknown): LiveUsersParse {
  const parsed = users.safeParse(data);
  if (!parsed.success)
    return {
      ok: false,
      reason: `unexpected answer shape: ${parsed.error.issues[0]?.message ?? "?"} at ${parsed.error.issues[0]?.path.join(".") ?? ""}`,
    };
  const streams: LiveStream[] = [];
  const dropped: string[] = [];
  for (const user of parsed.data.users ?? []) {
    const stream = (user as { stream?: unknown } | null)?.stream;
    if (stream === null || stream === undefined) continue;
    const n = node.safeParse(stream);
    if (!n.success) {
      const issue = n.error.issues[0];
      dropped.push(`invalid stream: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "?"}`);
      continue;
    }
    streams.push(toLiveStream(n.data));
  }
  return { ok: true, streams, dropped };
}
