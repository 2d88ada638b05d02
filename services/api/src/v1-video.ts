import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorBody } from "./errors.ts";
import { json } from "./json-answers.ts";
import { goneBody, removedVideo, sendGone } from "./removed.ts";
import { noQuery, v1ItemSchema } from "./v1-schemas.ts";
import { videoIdParam, vodByVideoId } from "./video-lookup.ts";

/** `/videos/:videoId`: the VOD a twitch.tv/videos link names, from the archive (no request to Twitch). */
export const v1Video: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;
  app.get(
    "/videos/:videoId",
    {
      schema: {
        tags: ["v1"],
        summary: "The archived VOD a Twitch video id names (twitch.tv/videos/{videoId}), from the archive alone",
        querystring: noQuery,
        params: z.object({ videoId: videoIdParam }),
        response: { 200: v1ItemSchema, 404: errorBody, 410: goneBody },
      },
    },
    async (req, reply) => {
      const { videoId } = req.params;
      const body = await vodByVideoId(db, videoId, req.clientSignal);
      if (body) return json(reply, body);
      const gone = await removedVideo(db, videoId, req.clientSignal);
      if (gone) return sendGone(reply, `video ${videoId}`, gone);
      return reply.code(404).send({
        error: "Not Found",
        message:
          `no archived VOD was listed under video ${videoId} (the archive knows a video id only once the streamer's listing named it); ` +
          "give the stream's TwitchTracker, StreamsCharts or SullyGnome URL to `vods recover`, or look the streamer up with /v1/vods?login=",
        problems: [{ parameter: "videoId", problem: "no archived VOD with this video id" }],
      });
    },
  );
};
