import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync } from "fastify";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "../web");

/** The web page at `/`: plain HTML, CSS and JS over the v1 API, hls.js for playing in the page. */
export const webRoutes: FastifyPluginAsync = async (app) => {
  // Read once at start: a handful of small files served from memory.
  const files: Record<string, { body: Buffer; type: string; cache: string }> = {
    "/": { body: readFileSync(join(webDir, "index.html")), type: "text/html; charset=utf-8", cache: "no-cache" },
    "/app.js": {
      body: readFileSync(join(webDir, "app.js")),
      type: "text/javascript; charset=utf-8",
      cache: "no-cache",
    },
    "/app.css": { body: readFileSync(join(webDir, "app.css")), type: "text/css; charset=utf-8", cache: "no-cache" },
    "/vendor/hls.min.js": {
      body: readFileSync(createRequire(import.meta.url).resolve("hls.js/dist/hls.min.js")),
      type: "text/javascript; charset=utf-8",
      cache: "public, max-age=86400",
    },
  };
  for (const [url, f] of Object.entries(files)) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply.type(f.type).header("cache-control", f.cache).send(f.body),
    );
  }
  app.get("/favicon.ico", { schema: { hide: true } }, async (_req, reply) => reply.code(204).send());
};
