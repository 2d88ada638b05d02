import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { compatAggregates } from "./compat-aggregates.ts";
import { json, listJson } from "./json-answers.ts";
import { gameId, language, login } from "./params.ts";
import { removedStreamer, sendGone } from "./removed.ts";
import { COMPAT_ITEM_SQL, ITEM_COLUMNS, jsonArraySql } from "./vods.ts";

const LIST_LIMIT = 50;
const SEARCH_LIMIT = 20;

const visibility = z.enum(["public", "private"], { message: 'expected "public" or "private"' });

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

const tags = ["compatible"];

/** Escapes LIKE's wildcards: `_` is allowed in logins and must match itself. */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** `/channels/@:login`: a streamer's newest VODs. */
const channelList: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/channels/@:login",
    {
      schema: {
        tags,
        summary: "A streamer's VODs, newest first (50), found by streamer id so renames are followed",
        params: z.object({ login }),
        response: { 200: compatList },
      },
    },
    async (req, reply) => {
      const body = await listJson(
        req,
        jsonArraySql(
          COMPAT_ITEM_SQL,
          `select ${ITEM_COLUMNS} from vods
              where streamer_id = (select streamer_id from vods where login = $1 order by start_time desc limit 1)
              order by start_time desc, id desc limit ${LIST_LIMIT}`,
          "start_time desc, id desc",
        ),
        [req.params.login],
      );
      // Nothing archived: a streamer who asked to be left out is answered 410, not an empty list.
      const gone = body.length === 2 ? await removedStreamer(app.db, req.params.login, req.clientSignal) : null;
      return gone ? sendGone(reply, `streamer ${req.params.login}`, gone) : json(reply, body);
    },
  );
};

/** `/all`, `/language` and `/category`: archived VODs by max viewers, public or private. */
const topLists: FastifyPluginAsyncZod = async (app) => {
  const byViewers = (where: string) =>
    jsonArraySql(
      COMPAT_ITEM_SQL,
      `select ${ITEM_COLUMNS} from vods where outcome = 'found' and ${where} order by max_viewers desc, id desc limit ${LIST_LIMIT}`,
      "max_viewers desc, id desc",
    );

  app.get(
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
      json(reply, await listJson(req, byViewers("public = $1"), [req.params.visibility === "public"])),
  );

  app.get(
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
        await listJson(req, byViewers("language = $1 and public = $2"), [
          req.params.lang,
          req.params.visibility === "public",
        ]),
      ),
  );

  app.get(
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
        await listJson(req, byViewers("game_id = $1 and public = $2"), [
          req.params.gameId,
          req.params.visibility === "public",
        ]),
      ),
  );
};

/** `/search/:login`: VODs of the logins starting with a term. */
const searchList: FastifyPluginAsyncZod = async (app) => {
  app.get(
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
        await listJson(req, jsonArraySql(COMPAT_ITEM_SQL, from, "branch, rank"), [term, likePrefix(term)]),
      );
    },
  );
};

export interface CompatOptions {
  /** How long aggregates (/categories, /languages) are reused. */
  aggregateTtlMs: number;
}

/**
 * The original system's routes, with its JSON shapes, so existing clients work unchanged. Its paths share
 * no prefix; the groups are registered in the order the OpenAPI document has always listed them.
 */
export const compatRoutes: FastifyPluginAsyncZod<CompatOptions> = async (app, o) => {
  app.register(channelList);
  app.register(topLists);
  app.register(compatAggregates, { ttlMs: o.aggregateTtlMs });
  app.register(searchList);
};
