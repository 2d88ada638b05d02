import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { canonicalJson, decodeCursor, encodeCursor, filtersKey } from "./cursor.ts";
import { json } from "./json-answers.ts";
import { vodsPage, vodsQuery } from "./v1-schemas.ts";
import { ITEM_COLUMNS, V1_ITEM_SQL } from "./vods.ts";

const VISIBILITY_WHERE = {
  public: "public is true",
  sub_only: "public is not true and sub_only is true",
  hidden: "public is false and sub_only is not true",
  unknown: "public is null and sub_only is not true",
} as const;

/** `/vods`: keyset pages, newest first, with filters, through the list cache. */
export const v1Vods: FastifyPluginAsyncZod = async (app) => {
  const { db, listCache } = app;
  app.get(
    "/vods",
    {
      schema: {
        tags: ["v1"],
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
      if (filters.playable === "unchecked") where.push("playable is null");
      else if (filters.playable !== undefined) where.push(`playable = ${param(filters.playable)}`);
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
      const body = await listCache.get(cacheKey, req.clientSignal, async (signal) => {
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
};
