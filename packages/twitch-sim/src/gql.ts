import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  GraphQLError,
  buildSchema,
  execute,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import type { FaultSet } from "./faults.ts";
import { GAMES } from "./games.ts";
import type { Streamer } from "./population.ts";
import { iso } from "./times.ts";
import { titleOf, type Vod } from "./vod.ts";
import type { StreamFilter } from "./viewer-index.ts";
import type { World } from "./world.ts";

let cachedSchema: GraphQLSchema | undefined;

/** The committed subset of Twitch's schema that the simulator serves. */
export function subsetSchema(): GraphQLSchema {
  cachedSchema ??= buildSchema(readFileSync(new URL("../schema/twitch-subset.graphql", import.meta.url), "utf8"));
  return cachedSchema;
}

export const MAX_STREAMS_PAGE = 30;
const MAX_VIDEOS_PAGE = 100;

/** Users per `users(ids:|logins:)` call: Helix's documented limit for the same lookup (GQL's is not published). */
const MAX_USERS = 100;

export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ s: offset })).toString("base64");
}

export function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64").toString("utf8")) as { s?: unknown };
    if (typeof value.s === "number" && Number.isInteger(value.s) && value.s >= 0) return value.s;
  } catch {
    // fall through
  }
  throw new GraphQLError(`invalid cursor "${cursor}"`);
}

interface Ctx {
  world: World;
  faults: FaultSet;
}

function failIfFaulted(ctx: Ctx, field: string): void {
  const message = ctx.faults.gqlError(field);
  if (message !== null) throw new GraphQLError(message);
}

/** A category, or null for a stream without one (gameIdx < 0), as on Twitch. */
function gameView(idx: number) {
  if (idx < 0) return null;
  const game = GAMES[idx] ?? GAMES[0];
  return {
    id: game?.id,
    name: game?.name,
    displayName: game?.name,
    boxArtURL: ({ width, height }: { width?: number; height?: number }) =>
      `https://static-cdn.jtvnw.net/ttv-boxart/${game?.id}-${width ?? "{width}"}x${height ?? "{height}"}.jpg`,
    streams: (
      args: { first?: number; after?: string; options?: { sort?: string; languages?: string[]; tags?: string[] } },
      ctx: Ctx,
    ) => {
      failIfFaulted(ctx, "streams");
      // GameStreamOptions.languages is a list of strings; Twitch takes the codes in either case.
      const languages = args.options?.languages?.length
        ? args.options.languages.map((l) => l.toUpperCase())
        : undefined;
      return streamConnection(ctx, args.first, args.after, args.options?.sort, args.options?.tags, {
        languages,
        gameIdx: idx,
      });
    },
  };
}

function lastTitle(s: Streamer): string {
  const vod = s.live ?? s.vods.at(-1);
  return vod ? titleOf(vod, s) : "";
}

/** `text` padded with a repeated pattern to `bytes` characters (an `oversized` fault), or as it is. */
function padded(text: string, bytes: number | undefined): string {
  return bytes === undefined || bytes <= text.length ? text : text + "x".repeat(bytes - text.length);
}

function userView(world: World, s: Streamer, ctx?: Ctx) {
  const big = ctx?.faults.oversized(s.login) ?? {};
  return {
    id: s.id,
    login: padded(s.login, big.login),
    displayName: s.displayName,
    createdAt: iso(s.createdAtMs),
    profileImageURL: ({ width }: { width: number }) =>
      `https://static-cdn.jtvnw.net/jtv_user_pictures/${s.login}-profile_image-${width}x${width}.png`,
    broadcastSettings: () => ({
      id: s.id,
      title: padded(lastTitle(s), big.title),
      language: padded(s.language, big.language),
      isMature: s.isMature,
      game: gameView(s.gameIdx),
    }),
    stream: () => (s.live ? streamView(world, s, s.live, world.viewersOf(s)) : null),
    subscriptionProducts: (_args: unknown, ctx: Ctx) => {
      failIfFaulted(ctx, "subscriptionProducts");
      return ["1000", "2000", "3000"].map((tier) => ({
        id: `${s.id}${tier}`,
        displayName: `Tier ${tier[0]} sub to ${s.displayName}`,
        hasSubonlyVideoArchive: s.subOnly,
      }));
    },
    // Past broadcasts are the resolver seen failing on its own (FACTS.md): an `errors` fault on `videos` hits only it.
    videos: (args: { first?: number; after?: string; type?: string; types?: string[]; sort?: string }, ctx: Ctx) => {
      failIfFaulted(ctx, "videos");
      const wantsArchive = (args.type ?? "ARCHIVE") === "ARCHIVE" && (args.types?.includes("ARCHIVE") ?? true);
      let list = wantsArchive ? world.listedVods(s) : [];
      if (args.sort === "TIME_ASC") list = list.reverse();
      const offset = args.after ? decodeCursor(args.after) : 0;
      const first = Math.max(0, Math.min(args.first ?? 10, MAX_VIDEOS_PAGE));
      const page = list.slice(offset, offset + first);
      return {
        totalCount: list.length,
        edges: page.map((vod, i) => ({ cursor: encodeCursor(offset + i + 1), node: videoView(world, vod) })),
        pageInfo: { hasNextPage: offset + first < list.length, hasPreviousPage: offset > 0 },
      };
    },
  };
}

function videoView(world: World, vod: Vod) {
  const storyboards = `https://${vod.domain}/${vod.key}/storyboards/${vod.videoId}`;
  return {
    id: vod.videoId,
    title: titleOf(vod, world.streamerOf(vod)),
    createdAt: iso(vod.startMs),
    publishedAt: iso(vod.startMs),
    lengthSeconds: Math.floor(world.durationMs(vod) / 1000),
    status: vod.ended ? "RECORDED" : "RECORDING",
    broadcastType: "ARCHIVE",
    // Like Twitch's, this URL names the CDN host and the VOD's path key.
    seekPreviewsURL: `${storyboards}-strip-0.jpg`,
    animatedPreviewURL: `${storyboards}-animated-preview.mp4`,
    previewThumbnailURL: ({ width, height }: { width?: number; height?: number }) =>
      `https://static-cdn.jtvnw.net/cf_vods/${vod.domain.split(".")[0]}/${vod.key}//thumb/thumb0-${width ?? "{width}"}x${height ?? "{height}"}.jpg`,
    viewCount: (Number(vod.videoId.slice(-4)) * 7) % 5000,
    game: gameView(vod.gameIdx),
    owner: () => userView(world, world.streamerOf(vod)),
  };
}

function streamView(world: World, s: Streamer, vod: Vod, viewers: number) {
  const game = gameView(vod.gameIdx);
  return {
    id: vod.streamId,
    viewersCount: viewers,
    createdAt: iso(vod.startMs),
    type: "live",
    title: titleOf(vod, s),
    broadcastLanguage: vod.language,
    language: vod.language,
    isMature: s.isMature,
    game: (_args: unknown, ctx: Ctx) => {
      const bytes = ctx.faults.oversized(s.login).game;
      return game && bytes !== undefined ? { ...game, name: padded(game.name ?? "", bytes) } : game;
    },
    broadcaster: (_args: unknown, ctx: Ctx) => userView(world, s, ctx),
    previewImageURL: ({ width, height }: { width?: number; height?: number }) =>
      `https://static-cdn.jtvnw.net/previews-ttv/live_user_${s.login}-${width ?? "{width}"}x${height ?? "{height}"}.jpg`,
    archiveVideo: () => (world.isListed(vod) ? videoView(world, vod) : null),
  };
}

/**
 * One page of a viewer-sorted list (all live streams, or one language set or category): the same
 * cursors, page cap and drift whichever filter applies.
 */
function streamConnection(
  ctx: Ctx,
  firstArg: number | undefined,
  after: string | undefined,
  sortArg: string | undefined,
  tags: string[] | undefined,
  filter: StreamFilter,
) {
  const sort = sortArg ?? "VIEWER_COUNT";
  if (sort !== "VIEWER_COUNT" && sort !== "VIEWER_COUNT_ASC") throw new GraphQLError(`sort ${sort} is not simulated`);
  if (tags?.length) throw new GraphQLError("tag filters are not simulated");
  const offset = after ? decodeCursor(after) : 0;
  // Twitch quietly caps pages at 30 whatever `first` asks for.
  const first = Math.max(0, Math.min(firstArg ?? 10, MAX_STREAMS_PAGE));
  if (ctx.faults.gqlEmpty("streams"))
    return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: offset > 0 } };
  const page = ctx.world.page(offset, first, sort === "VIEWER_COUNT_ASC", filter);
  return {
    edges: page.items.map((item) => ({
      cursor: encodeCursor(item.position + 1),
      node: streamView(ctx.world, item.streamer, item.vod, item.viewers),
    })),
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: offset > 0 },
  };
}

const root = {
  streams(
    args: { first?: number; after?: string; options?: { sort?: string; languages?: string[]; tags?: string[] } },
    ctx: Ctx,
  ) {
    failIfFaulted(ctx, "streams");
    const languages = args.options?.languages?.length ? args.options.languages : undefined;
    return streamConnection(ctx, args.first, args.after, args.options?.sort, args.options?.tags, { languages });
  },
  game(args: { id?: string; name?: string }, ctx: Ctx) {
    failIfFaulted(ctx, "game");
    if (args.id === undefined && args.name === undefined) throw new GraphQLError("game: one of id or name is required");
    const name = args.name?.toLowerCase();
    const idx = GAMES.findIndex((g) => (args.id !== undefined ? g.id === args.id : g.name.toLowerCase() === name));
    return idx < 0 ? null : gameView(idx);
  },
  user(args: { id?: string; login?: string }, ctx: Ctx) {
    failIfFaulted(ctx, "user");
    const s = args.id
      ? ctx.world.streamerById(args.id)
      : args.login
        ? ctx.world.streamerByLogin(args.login)
        : undefined;
    return s ? userView(ctx.world, s) : null;
  },
  users(args: { ids?: string[]; logins?: string[] }, ctx: Ctx) {
    failIfFaulted(ctx, "users");
    const asked = (args.ids ?? args.logins ?? []).length;
    if (asked > MAX_USERS) throw new GraphQLError(`users: at most ${MAX_USERS} ids or logins per call, got ${asked}`);
    if (args.ids)
      return args.ids.map((id) => ctx.world.streamerById(id)).map((s) => (s ? userView(ctx.world, s) : null));
    return (args.logins ?? []).map((l) => ctx.world.streamerByLogin(l)).map((s) => (s ? userView(ctx.world, s) : null));
  },
  video(args: { id?: string }, ctx: Ctx) {
    failIfFaulted(ctx, "video");
    const vod = args.id ? ctx.world.vodByVideoId(args.id) : undefined;
    return vod && ctx.world.isListed(vod) ? videoView(ctx.world, vod) : null;
  },
};

export interface GqlRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

/** Executes GQL operations against the world, caching parsed and validated documents by text. */
export class GqlService {
  readonly #documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  readonly #schema = subsetSchema();

  constructor(
    private readonly world: World,
    private readonly faults: FaultSet,
  ) {}

  async run(request: GqlRequest): Promise<ExecutionResult & { extensions?: Record<string, unknown> }> {
    const started = performance.now();
    const operationName = typeof request.operationName === "string" ? request.operationName : undefined;
    const extensions = () => ({
      durationMilliseconds: Math.round(performance.now() - started),
      ...(operationName ? { operationName } : {}),
      requestID: randomUUID().replaceAll("-", "").slice(0, 26).toUpperCase(),
    });
    if (typeof request.query !== "string") {
      // Twitch's own client sends persisted-query hashes; the simulator knows none of them.
      const persisted =
        request.extensions && typeof request.extensions === "object" && "persistedQuery" in request.extensions;
      return {
        errors: [new GraphQLError(persisted ? "PersistedQueryNotFound" : "No query provided")],
        extensions: extensions(),
      };
    }
    const document = this.#document(request.query);
    if (!("kind" in document)) return { errors: document, extensions: extensions() };
    const variables =
      request.variables && typeof request.variables === "object"
        ? (request.variables as Record<string, unknown>)
        : undefined;
    const result = await execute({
      schema: this.#schema,
      document,
      rootValue: root,
      contextValue: { world: this.world, faults: this.faults } satisfies Ctx,
      variableValues: variables,
      operationName,
    });
    return { ...result, extensions: extensions() };
  }

  #document(query: string): DocumentNode | readonly GraphQLError[] {
    let doc = this.#documents.get(query);
    if (doc) return doc;
    try {
      const parsed = parse(query);
      const errors = validate(this.#schema, parsed);
      doc = errors.length > 0 ? errors : parsed;
    } catch (err) {
      doc = [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
    }
    if (this.#documents.size >= 500) this.#documents.clear();
    this.#documents.set(query, doc);
    return doc;
  }
}
