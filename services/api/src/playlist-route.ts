import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { BadRequest } from "./errors.ts";
import { OverloadedError } from "./db.ts";
import { streamIdParam } from "./params.ts";
import { removedStream, sendGone } from "./removed.ts";

const unixParam = z.coerce
  .number({ message: "expected unix seconds" })
  .int("expected whole unix seconds")
  .min(0)
  .max(32_503_680_000);

/** An archived playlist never changes: a year, immutable. */
const CACHE_CONTROL = "public, max-age=31536000, immutable";
const MPEGURL = "application/vnd.apple.mpegurl";

/** Whether the client takes gzip (RFC 9110 §12.5.3): named with q > 0, or `*` with q > 0 and gzip not refused. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let star: boolean | undefined;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    const coding = name.trim().toLowerCase();
    if (coding === "gzip" || coding === "x-gzip") return ok;
    if (coding === "*") star = ok;
  }
  return star ?? false;
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  // If-None-Match compares weakly (RFC 9110 §13.1.2).
  return ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

const gunzipAsync = promisify(gunzip);

/**
 * Decompresses a stored playlist on zlib's thread pool, never past `maxBytes` of output, and at most
 * `concurrency` at once: a playlist that gzips small can still expand to far more than any VOD needs.
 */
export function plainPlaylists(maxBytes: number, concurrency: number): (gz: Buffer) => Promise<Buffer> {
  let running = 0;
  return async (gz) => {
    if (running >= concurrency) throw new OverloadedError(`${running} playlists are being decompressed`);
    running++;
    try {
      return await gunzipAsync(gz, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as { code?: string }).code !== "ERR_BUFFER_TOO_LARGE") throw err;
      // The client can have it: gzip-encoded, as stored. 406 is what refusing its Accept-Encoding means.
      throw new BadRequest(
        [
          {
            parameter: "accept-encoding",
            problem: `this playlist decompresses to more than ${maxBytes} bytes, the most sent uncompressed; ask with Accept-Encoding: gzip`,
          },
        ],
        406,
      );
    } finally {
      running--;
    }
  };
}

export interface PlaylistOptions {
  /** Largest playlist decompressed for a client that refuses gzip (bytes); a larger one is answered 406. */
  plainMaxBytes?: number;
  /** Playlists decompressed at once; one more is answered 503, so their buffers cannot add up without bound. */
  gunzipConcurrency?: number;
}

/** `/m3u8/:streamId/:unix/index.m3u8`: the stored gzip bytes as they are; decompressed only for a client that refuses gzip. */
export const playlistRoute: FastifyPluginAsyncZod<PlaylistOptions> = async (app, o) => {
  const { db, playlistCache } = app;
  const plain = plainPlaylists(o.plainMaxBytes ?? 16 * 1024 * 1024, o.gunzipConcurrency ?? 4);
  app.get(
    "/m3u8/:streamId/:unix/index.m3u8",
    {
      schema: {
        tags: ["playlist"],
        summary:
          "The archived playlist of one VOD (stream id and start time in unix seconds); gzip-encoded as stored, HEAD and ETag supported",
        params: z.object({ streamId: streamIdParam, unix: unixParam }),
      },
    },
    async (req, reply) => {
      const { streamId, unix } = req.params;
      const stored = await playlistCache.get(`${streamId}/${unix}`, req.clientSignal, async (signal) => {
        const rows = await db.read<{ playlist_gz: Buffer }>(
          `select playlist_gz from vods
            where stream_id = $1 and start_time >= to_timestamp($2) and start_time < to_timestamp($2 + 1)
              and outcome = 'found' and playlist_gz is not null
            order by start_time limit 1`,
          [streamId, unix],
          signal,
        );
        const gz = rows[0]?.playlist_gz;
        return gz ? { gz, hash: createHash("sha256").update(gz).digest("base64url").slice(0, 27) } : null;
      });
      if (!stored) {
        const gone = await removedStream(db, streamId, req.clientSignal);
        if (gone) return sendGone(reply, `the playlist of stream ${streamId}`, gone);
        return reply.code(404).send({
          error: "Not Found",
          message: `no archived playlist for stream ${streamId} started at ${unix}`,
          problems: [{ parameter: "streamId", problem: "no archived VOD with this stream id and start time" }],
        });
      }
      const { gz, hash } = stored;
      const gzip = acceptsGzip(req.headers["accept-encoding"]);
      // Strong ETags differ per content coding: the gzip bytes and the plain text are different representations.
      const etag = gzip ? `"${hash}.gz"` : `"${hash}"`;
      const headers = () =>
        reply
          .header("etag", etag)
          .header("cache-control", CACHE_CONTROL)
          .header("vary", "Accept-Encoding")
          .header("access-control-allow-origin", "*")
          // Players on other sites load playlists without CORS too (a <video> element).
          .header("cross-origin-resource-policy", "cross-origin");
      if (etagMatches(req.headers["if-none-match"], etag)) return headers().code(304).send();
      // Decompressed before any header is set: a refusal must not go out as an immutable playlist.
      const body = gzip ? gz : await plain(gz);
      headers().type(MPEGURL);
      if (gzip) reply.header("content-encoding", "gzip");
      return reply.send(body);
    },
  );
};
