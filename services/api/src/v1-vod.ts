import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorBody } from "./errors.ts";
import { json } from "./json-answers.ts";
import { streamIdParam } from "./params.ts";
import { goneBody, removedStream, sendGone } from "./removed.ts";
import { isoTime, noQuery, v1ItemSchema } from "./v1-schemas.ts";
import { rfc3339, V1_ITEM_SQL } from "./vods.ts";

/** `/vods/:streamId/:startTime`: one VOD. */
export const v1Vod: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;
  app.get(
    "/vods/:streamId/:startTime",
    {
      schema: {
        tags: ["v1"],
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
        response: { 200: v1ItemSchema, 404: errorBody, 410: goneBody },
      },
    },
    async (req, reply) => {
      const start = req.params.startTime;
      const rows = await db.read<{ body: string }>(
        `select ${V1_ITEM_SQL}::text as body from vods where stream_id = $1 and start_time >= $2 and start_time < $3 order by start_time limit 1`,
        [req.params.streamId, start, new Date(start.getTime() + 1000)],
        req.clientSignal,
      );
      if (rows[0]) return json(reply, rows[0].body);
      const gone = await removedStream(db, req.params.streamId, req.clientSignal);
      if (gone) return sendGone(reply, `the VOD of stream ${req.params.streamId}`, gone);
      return reply.code(404).send({
        error: "Not Found",
        message: `no VOD of stream ${req.params.streamId} started at ${rfc3339(start)}`,
        problems: [{ parameter: "startTime", problem: "no VOD with this stream id and start time" }],
      });
    },
  );
};
