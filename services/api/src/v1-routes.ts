import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppDeps } from "./deps.ts";
import { canonicalJson, decodeCursor, encodeCursor, filtersKey } from "./cursor.ts";
import { json, language, login } from "./compat-routes.ts";
import { errorBody } from "./errors.ts";
import { bigintId, streamIdParam } from "./playlist-route.ts";
import { ITEM_COLUMNS, rfc3339, V1_ITEM_SQL } from "./vods.ts";

const isoTime = z.iso.datetime({ offset: true, message: "expected an RFC 3339 time like 2026-11-22T14:00:00Z" });

export const vodsQuery = z
  .object({
    login: login.optional().describe("streamer login; follows renames (resolved to the streamer id of its newest VOD)"),
    streamerId: bigintId("a streamer id").optional(),
    gameId: z
      .string()
      .regex(/^[0-9]{1,20}$/, "a category id is digits")
      .optional(),
    language: language.optional(),
    visibility: z.enum(["public", "sub_only", "hidden", "unknown"]).optional(),
    outcome: z.enum(["found", "not_found", "failed", "pending"]).optional(),
    from: isoTime.optional().describe("start time at or after"),
    to: isoTime.optional().describe("start time before"),
    limit: z.coerce.number({ message: "expected a number" }).int("expected a whole number").min(1).max(100).default(50),
    cursor: z.string().max(200).optional().describe("the `next` of the previous page"),
  })
  .strict();

/** Routes without query parameters refuse any, so a client learns of its typo instead of a silent ignore. */
const noQuery = z.object({}).strict();

const v1ItemSchema = z.object({
  id: z.number().int(),
  streamId: z.string(),
  startTime: z.string(),
  streamerId: z.string(),
  login: z.string(),
  title: z.string().nullable(),
  gameId: z.string().nullable(),
  gameName: z.string().nullable(),
  language: z.string().nullable(),
  mature: z.boolean().nullable(),
  maxViewers: z.number().int(),
  lastSeen: z.string(),
  outcome: z.enum(["found", "not_found", "failed", "pending"]),
  fetchedAt: z.string().nullable(),
  visibility: z.enum(["public", "sub_only", "hidden", "unknown"]),
  durationSeconds: z.number().nullable(),
  segments: z.number().int().nullable(),
  mutedSegments: z.number().int().nullable(),
  mutedShare: z.number().nullable(),
  playlist: z.string().nullable(),
});
export const vodsPage = z.object({ items: z.array(v1ItemSchema), next: z.string().nullable() });

const VISIBILITY_WHERE = {
  public: "public is true",
  sub_only: "public is not true and sub_only is true",
  hidden: "public is false and sub_only is not true",
  unknown: "public is null and sub_only is not true",
} as const;

/** The v1 API: keyset pages (newest first) with filters, one VOD, one streamer. */
export function v1Routes(app: FastifyInstance, deps: AppDeps): void {
  const { db } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["v1"];

  r.get(
    "/v1/vods",
    {
      schema: {
        tags,
        summary:
          "VODs, newest start first, a page at a time (keyset: pages neither skip nor repeat while rows are added)",
        querystring: vodsQuery,
        response: { 200: vodsPage },
      },
    },
    async (req, reply) => {
      const { limit, cursor, ...filters } = req.query;
      const key = filtersKey(filters);
      const where: string[] = [];
      const values: unknown[] = [];
      const param = (v: unknown) => `$${values.push(v)}`;
      if (filters.login !== undefined)
        where.push(
          `streamer_id = (select streamer_id from vods where login = ${param(filters.login)} order by start_time desc limit 1)`,
        );
      if (filters.streamerId !== undefined) where.push(`streamer_id = ${param(filters.streamerId)}`);
      if (filters.gameId !== undefined) where.push(`game_id = ${param(filters.gameId)}`);
      if (filters.language !== undefined) where.push(`language = ${param(filters.language)}`);
      if (filters.visibility !== undefined) where.push(VISIBILITY_WHERE[filters.visibility]);
      if (filters.outcome === "pending") where.push("outcome is null");
      else if (filters.outcome !== undefined) where.push(`outcome = ${param(filters.outcome)}`);
      if (filters.from !== undefined) where.push(`start_time >= ${param(new Date(filters.from))}`);
      if (filters.to !== undefined) where.push(`start_time < ${param(new Date(filters.to))}`);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, key);
      if (after) where.push(`(start_time, id) < (${param(new Date(after.startTimeMs))}, ${param(after.id)})`);
      // Keyed by what the answer depends on, once validated: `limit=0050` and `limit=50`, or a login in
      // any case, share an entry, and nothing outside the schema reaches the key (it is refused with 400).
      const cacheKey = `/v1/vods ${canonicalJson({
        ...filters,
        from: filters.from === undefined ? undefined : Date.parse(filters.from),
        to: filters.to === undefined ? undefined : Date.parse(filters.to),
        limit,
        after: after && [after.startTimeMs, after.id],
      })}`;
      // One row more than the page tells whether there is a next one; the last row of the page makes the cursor.
      const fetch = param(limit + 1);
      const size = param(limit);
      const body = await deps.listCache.get(cacheKey, req.clientSignal, async (signal) => {
        const [page] = await db.read<{
          items: string;
          fetched: number;
          last_ms: string | null;
          last_id: string | null;
        }>(
          `with page as (
             select *, row_number() over (order by start_time desc, id desc) as rank
               from (select ${ITEM_COLUMNS} from vods ${where.length ? `where ${where.join(" and ")}` : ""} order by start_time desc, id desc limit ${fetch}) s)
           select coalesce(json_agg(${V1_ITEM_SQL} order by rank) filter (where rank <= ${size}), '[]')::text as items,
                  count(*)::int as fetched,
                  max(case when rank = ${size} then (extract(epoch from start_time) * 1000)::bigint end)::text as last_ms,
                  max(case when rank = ${size} then id end)::text as last_id
             from page`,
          values,
          signal,
        );
        const next =
          page && page.fetched > limit && page.last_ms && page.last_id
            ? encodeCursor({ startTimeMs: Number(page.last_ms), id: Number(page.last_id) }, key)
            : null;
        return Buffer.from(`{"items":${page?.items ?? "[]"},"next":${JSON.stringify(next)}}`);
      });
      return json(reply, body);
    },
  );

  r.get(
    "/v1/vods/:streamId/:startTime",
    {
      schema: {
        tags,
        summary: "One VOD by stream id and start time (RFC 3339, or unix seconds)",
        querystring: noQuery,
        params: z.object({
          streamId: streamIdParam,
          startTime: z.union([
            z
              .string()
              .regex(/^[0-9]{1,12}$/)
              .transform((s) => new Date(Number(s) * 1000)),
            isoTime.transform((s) => new Date(s)),
          ]),
        }),
        response: { 200: v1ItemSchema, 404: errorBody },
      },
    },
    async (req, reply) => {
      const start = req.params.startTime;
      const rows = await db.read<{ body: string }>(
        `select ${V1_ITEM_SQL}::text as body from vods where stream_id = $1 and start_time >= $2 and start_time < $3 order by start_time limit 1`,
        [req.params.streamId, start, new Date(start.getTime() + 1000)],
        req.clientSignal,
      );
      if (!rows[0])
        return reply.code(404).send({
          error: "Not Found",
          message: `no VOD of stream ${req.params.streamId} started at ${rfc3339(start)}`,
          problems: [{ parameter: "startTime", problem: "no VOD with this stream id and start time" }],
        });
      return json(reply, rows[0].body);
    },
  );

  const streamerSchema = z.object({
    streamerId: z.string(),
    login: z.string(),
    logins: z.array(z.string()),
    vods: z.number().int(),
    archived: z.number().int(),
    firstStartTime: z.string(),
    lastStartTime: z.string(),
    recent: z.array(v1ItemSchema),
  });
  r.get(
    "/v1/streamers/:login",
    {
      schema: {
        tags,
        summary: "A streamer by login (follows renames): the logins it used, its counts and newest VODs",
        querystring: noQuery,
        params: z.object({ login }),
        response: { 200: streamerSchema, 404: errorBody },
      },
    },
    async (req, reply) => {
      const ids = await db.read<{ streamer_id: string }>(
        `select streamer_id from vods where login = $1 order by start_time desc limit 1`,
        [req.params.login],
        req.clientSignal,
      );
      const id = ids[0]?.streamer_id;
      if (!id)
        return reply.code(404).send({
          error: "Not Found",
          message: `no VOD of a streamer called ${req.params.login}`,
          problems: [{ parameter: "login", problem: "no archived streamer with this login" }],
        });
      const [stats] = await db.read<{ logins: string[]; vods: number; archived: number; first: Date; last: Date }>(
        `select array_agg(distinct login) as logins, count(*)::int as vods, count(*) filter (where outcome = 'found')::int as archived,
                min(start_time) as first, max(start_time) as last
           from vods where streamer_id = $1`,
        [id],
        req.clientSignal,
      );
      const [recent] = await db.read<{ body: string; login: string | null }>(
        `select coalesce(json_agg(${V1_ITEM_SQL} order by start_time desc, id desc), '[]')::text as body,
                (array_agg(login order by start_time desc, id desc))[1] as login
           from (select ${ITEM_COLUMNS} from vods where streamer_id = $1 order by start_time desc, id desc limit 20) v`,
        [id],
        req.clientSignal,
      );
      const head = JSON.stringify({
        streamerId: id,
        login: recent?.login ?? req.params.login,
        logins: stats?.logins ?? [],
        vods: stats?.vods ?? 0,
        archived: stats?.archived ?? 0,
        firstStartTime: stats ? rfc3339(stats.first) : "",
        lastStartTime: stats ? rfc3339(stats.last) : "",
      });
      return json(reply, `${head.slice(0, -1)},"recent":${recent?.body ?? "[]"}}`);
    },
  );
}
