import type { FastifyPluginAsync } from "fastify";
import { v1Streamer } from "./v1-streamer.ts";
import { v1Vod } from "./v1-vod.ts";
import { v1Vods } from "./v1-vods.ts";

/** The v1 API, registered under `/v1`: keyset pages (newest first) with filters, one VOD, one streamer. */
export const v1Routes: FastifyPluginAsync = async (app) => {
  app.register(v1Vods);
  app.register(v1Vod);
  app.register(v1Streamer);
};
