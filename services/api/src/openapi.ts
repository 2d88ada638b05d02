import swagger from "@fastify/swagger";
import fp from "fastify-plugin";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

/** The OpenAPI document at /openapi.json, of every route registered after this plugin. */
export const openapi = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: "3.0.3",
        info: {
          title: "VOD archive API",
          version: "1.0.0",
          description: "Archived Twitch VODs: compatible routes, the v1 API and the playlists.",
        },
      },
      transform: jsonSchemaTransform,
    });
    app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  },
  { name: "openapi", fastify: "5.x" },
);
