import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorBody } from "./errors.ts";
import { json } from "./json-answers.ts";
import { login } from "./params.ts";
import { goneBody, removedStreamer, sendGone } from "./removed.ts";
import { noQuery, streamerSchema } from "./v1-schemas.ts";
import { ITEM_COLUMNS, rfc3339, V1_ITEM_SQL } from "./vods.ts";

/** `/streamers/:login`: a streamer, followed across renames, with its counts and newest VODs. */
export const v1Streamer: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;
  app.get(
    "/streamers/:login",
    {
      schema: {
        tags: ["v1"],
        summary: "A streamer by login (follows renames): the logins it used, its counts and newest VODs",
        querystring: noQuery,
        params: z.object({ login }),
        response: { 200: streamerSchema, 404: errorBody, 410: goneBody },
      },
    },
    async (req, reply) => {
      const ids = await db.read<{ streamer_id: string }>(
        `select streamer_id from vods where login = $1 order by start_time desc limit 1`,
        [req.params.login],
        req.clientSignal,
      );
      const id = ids[0]?.streamer_id;
      if (!id) {
        const gone = await removedStreamer(db, req.params.login, req.clientSignal);
        if (gone) return sendGone(reply, `streamer ${req.params.login}`, gone);
        return reply.code(404).send({
          error: "Not Found",
          message: `no VOD of a streamer called ${req.params.login}`,
          problems: [{ parameter: "login", problem: "no archived streamer with this login" }],
        });
      }
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
};
