import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { ReadPool } from "./db.ts";
import { errorBody } from "./errors.ts";
import { rfc3339 } from "./vods.ts";

/**
 * Streamers who asked to be left out (`vods forget`): their VOD rows are deleted, so each route asks
 * here only once it found nothing, and answers 410 instead of 404. The forget's tombstones
 * (`takedown_vods`) keep the stream ids and video ids the links name.
 */

/** The body of a 410: why, and since when. */
export const goneBody = errorBody.extend({ removedAt: z.string() });

export interface Takedown {
  at: Date;
}

const first = async (db: ReadPool, text: string, values: unknown[], signal?: AbortSignal) =>
  (await db.read<Takedown>(text, values, signal))[0] ?? null;

const BY_TOMBSTONE = (where: string) =>
  `select t.at from takedown_vods v join takedowns t on t.id = v.takedown_id where ${where} order by t.at limit 1`;

/** The takedown that removed a VOD of this stream id; null when none did. */
export function removedStream(db: ReadPool, streamId: string, signal?: AbortSignal): Promise<Takedown | null> {
  return first(db, BY_TOMBSTONE("v.stream_id = $1"), [streamId], signal);
}

/** The takedown that removed the VOD listed under this video id. */
export function removedVideo(db: ReadPool, videoId: string, signal?: AbortSignal): Promise<Takedown | null> {
  return first(db, BY_TOMBSTONE("v.video_id = $1"), [videoId], signal);
}

/** The takedown of a login: asked by that login, or one that removed VODs archived under it (an old name). */
export function removedStreamer(db: ReadPool, login: string, signal?: AbortSignal): Promise<Takedown | null> {
  return first(
    db,
    `select min(at) as at from (
       (select at from takedowns where login = $1 order by at limit 1)
       union all (${BY_TOMBSTONE("v.login = $1")})) a having min(at) is not null`,
    [login],
    signal,
  );
}

/** 410 Gone: the archive had it and removed it at the streamer's request. */
export function sendGone(reply: FastifyReply, what: string, takedown: Takedown): FastifyReply {
  const removedAt = rfc3339(takedown.at);
  return reply.code(410).send({
    error: "Gone",
    message: `${what} was removed from the archive at the streamer's request (${removedAt})`,
    removedAt,
  });
}
