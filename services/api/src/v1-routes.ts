import type { FastifyPluginAsync } from "fastify";
import { v1Streamer } from "./v1-streamer.ts";
import { v1Video } from "./v1-video.ts";
import { v1Vod } from "./v1-vod.ts";
import { v1Vods } from "./v1-vods.ts";

/** The v1 API, registered under `/v1`: keyset pages (newest first) with filters, one VOD, one streamer, a VOD by Twitch video id. */
export const v1Routes: FastifyPluginAsync = async (app) => {
  app.register(v1Vods);
  app.register(v1Vod);
  app.register(v1Streamer);
  app.register(v1Video);
};
