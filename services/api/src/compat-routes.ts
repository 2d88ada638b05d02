import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { isLanguage, LANGUAGES } from "@vod/twitch";
import type { AppDeps } from "./deps.ts";
import { COMPAT_ITEM_SQL, ITEM_COLUMNS, jsonArraySql } from "./vods.ts";
import { cached } from "./cache.ts";

const LIST_LIMIT = 50;
const SEARCH_LIMIT = 20;
const CATEGORIES_LIMIT = 200;

export const login = z
  .string()
  .regex(/^[a-zA-Z0-9_]{1,50}$/, "a login is 1 to 50 letters, digits or underscores")
  .transform((s) => s.toLowerCase());
const visibility = z.enum(["public", "private"], { message: 'expected "public" or "private"' });
/** Twitch's broadcaster languages (EN, PT, ZH_HK, OTHER, …), as stored; any case, `-` for `_`. */
export const language = z
  .string()
  .transform((s) => s.toUpperCase().replace(/-/g, "_"))
  .refine(isLanguage, { message: `not a Twitch language; one of ${LANGUAGES.join(", ")}` });
const gameId = z.string().regex(/^[0-9]{1,20}$/, "a category id is digits");

/** The compatible "Metadata" object, for the OpenAPI document and the tests. */
export const compatItemSchema = z
  .object({
    Link: z.string(),
    Metadata: z
      .object({
        ID: z.number().int(),
        MaxViews: z.number().int(),
        StartTime: z.string(),
        StreamerID: z.number().int(),
        StreamID: z.number().int(),
        StreamerLoginAtStart: z.string(),
        GameNameAtStart: z.string(),
        LanguageAtStart: z.string(),
        TitleAtStart: z.string(),
        IsMatureAtStart: z.boolean(),
        GameIDAtStart: z.string(),
        BytesFound: z.object({ Bool: z.boolean(), Valid: z.boolean() }).strict(),
        Public: z.object({ Bool: z.boolean(), Valid: z.boolean() }).strict(),
        HlsDurationSeconds: z.object({ Float64: z.number(), Valid: z.boolean() }).strict(),
        BoxArtUrlAtStart: z.object({ String: z.string(), Valid: z.boolean() }).strict(),
        ProfileImageUrlAtStart: z.object({ String: z.string(), Valid: z.boolean() }).strict(),
      })
      .strict(),
  })
  .strict();
const compatList = z.array(compatItemSchema);

type Body = { body: string };

/** Sends JSON text (built by PostgreSQL) as it is. */
export function json(reply: FastifyReply, body: string | Buffer): FastifyReply {
  return reply
    .type("application/json; charset=utf-8")
    .serializer((s) => s as string)
    .send(body);
}

/**
 * The list cache's key of a compatible route: the route and its validated, normalised path parameters.
 * The query string is left out, and ignored: the original system ignored it, and its clients may add
 * their own (cache busters, tokens); kept in the key, each distinct one would take an entry.
 */
export function routeKey(req: FastifyRequest): string {
  return `${req.routeOptions.url ?? ""} ${JSON.stringify(req.params)}`;
}

/** The JSON array one statement builds, through the list cache (keyed by the route and its parameters), encoded once. */
export async function listJson(deps: AppDeps, req: FastifyRequest, text: string, values: unknown[]): Promise<Buffer> {
  return deps.listCache.get(routeKey(req), req.clientSignal, async (signal) =>
    Buffer.from((await deps.db.read<Body>(text, values, signal))[0]?.body ?? "[]"),
  );
}

/** Escapes LIKE's wildcards: `_` is allowed in logins and must match itself. */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The original system's routes, with its JSON shapes, so existing clients work unchanged. */
export function compatRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { db } = deps;
  const tags = ["compatible"];

  r.get(
    "/channels/@:login",
    {
      schema: {
        tags,
        summary: "A streamer's VODs, newest first (50), found by streamer id so renames are followed",
        params: z.object({ login }),
        response: { 200: compatList },
      },
    },
    async (req, reply) =>
      json(
        reply,
        await listJson(
          deps,
          req,
          jsonArraySql(
            COMPAT_ITEM_SQL,
            `select ${ITEM_COLUMNS} from vods
              where streamer_id = (select streamer_id from vods where login = $1 order by start_time desc limit 1)
              order by start_time desc, id desc limit ${LIST_LIMIT}`,
            "start_time desc, id desc",
          ),
          [req.params.login],
        ),
      ),
  );

  const byViewers = (where: string) =>
    jsonArraySql(
      COMPAT_ITEM_SQL,
      `select ${ITEM_COLUMNS} from vods where outcome = 'found' and ${where} order by max_viewers desc, id desc limit ${LIST_LIMIT}`,
      "max_viewers desc, id desc",
    );

  r.get(
    "/all/:visibility",
    {
      schema: {
        tags,
        summary: "Archived VODs by max viewers (50): public, or private (sub-only or hidden)",
        params: z.object({ visibility }),
        response: { 200: compatList },
      },
    },
    async (req, reply) =>
      json(reply, await listJson(deps, req, byViewers("public = $1"), [req.params.visibility === "public"])),
  );

  r.get(
    "/language/@:lang/all/:visibility",
    {
      schema: {
        tags,
        summary: "Archived VODs in one language, by max viewers (50)",
        params: z.object({ lang: language, visibility }),
        response: { 200: compatList },
      },
    },
    async (req, reply) =>
      json(
        reply,
        await listJson(deps, req, byViewers("language = $1 and public = $2"), [
          req.params.lang,
          req.params.visibility === "public",
        ]),
      ),
  );

  r.get(
    "/category/@:gameId/all/:visibility",
    {
      schema: {
        tags,
        summary: "Archived VODs in one category, by max viewers (50)",
        params: z.object({ gameId, visibility }),
        response: { 200: compatList },
      },
    },
    async (req, reply) =>
      json(
        reply,
        await listJson(deps, req, byViewers("game_id = $1 and public = $2"), [
          req.params.gameId,
          req.params.visibility === "public",
        ]),
      ),
  );

  const categoriesSchema = z.array(z.object({ GameID: z.string(), GameName: z.string(), Count: z.number().int() }));
  const categories = cached(deps.aggregateTtlMs, async () => {
    const since = new Date(deps.clock.now() - 24 * 3_600_000);
    const rows = await db.read<{ game_id: string; game_name: string | null; count: number }>(
      `select game_id, max(game_name) as game_name, count(*)::int as count from vods
        where start_time >= $1 and game_id is not null
        group by game_id order by count(*) desc, game_id limit ${CATEGORIES_LIMIT}`,
      [since],
    );
    return rows.map((c) => ({ GameID: c.game_id, GameName: c.game_name ?? "", Count: c.count }));
  });
  r.get(
    "/categories",
    {
      schema: {
        tags,
        summary: "The 200 categories with the most VODs started in the last 24 hours",
        response: { 200: categoriesSchema },
      },
    },
    () => categories(),
  );

  const languagesSchema = z.array(z.object({ Language: z.string(), Count: z.number().int() }));
  const languages = cached(deps.aggregateTtlMs, async () => {
    const rows = await db.read<{ language: string; count: number }>(
      `select language, count(*)::int as count from vods where outcome = 'found' and language is not null group by language order by count(*) desc, language`,
      [],
    );
    return rows.map((l) => ({ Language: l.language, Count: l.count }));
  });
  r.get(
    "/languages",
    {
      schema: {
        tags,
        summary: "Languages of the archived VODs, with their counts",
        response: { 200: languagesSchema },
      },
    },
    () => languages(),
  );

  r.get(
    "/search/:login",
    {
      schema: {
        tags,
        summary: "VODs of logins starting with the term (20): the exact login first",
        params: z.object({ login }),
        response: { 200: compatList },
      },
    },
    async (req, reply) => {
      const term = req.params.login;
      // The exact login's VODs, then other logins that start with the term (byte order); each branch an index scan.
      const from = `
        (select 0 as branch, row_number() over (order by start_time desc, id desc) as rank, ${ITEM_COLUMNS}
           from (select * from vods where login = $1 order by start_time desc, id desc limit ${SEARCH_LIMIT}) e)
        union all
        (select 1, row_number() over (order by login collate "C", start_time desc, id desc), ${ITEM_COLUMNS}
           from (select * from vods where login collate "C" like $2 and login <> $1 order by login collate "C", start_time desc, id desc limit ${SEARCH_LIMIT}) p)
        order by branch, rank limit ${SEARCH_LIMIT}`;
      return json(
        reply,
        await listJson(deps, req, jsonArraySql(COMPAT_ITEM_SQL, from, "branch, rank"), [term, likePrefix(term)]),
      );
    },
  );
}
