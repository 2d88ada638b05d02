import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorBody } from "./errors.ts";
import { fromArchive, type ArchiveRow } from "./find-archive.ts";
import { findEvents } from "./find-events.ts";
import { readFindInput, type FindAsk } from "./find-input.ts";
import { FindJobs, type FindResult } from "./find-jobs.ts";
import { FindLimits } from "./find-limits.ts";
import { runFind } from "./find-run.ts";
import { openSearch, type FindOptions } from "./find-search.ts";
import { goneBody, removedStream, removedStreamer, removedVideo, sendGone, type Takedown } from "./removed.ts";
import type { ReadPool } from "./db.ts";

const findBody = z
  .object({
    input: z
      .string()
      .max(500)
      .describe("a tracker stream link, a twitch.tv video link, a channel or login, or a stream id"),
    time: z.string().max(40).optional().describe("when the stream started, local to tz unless it carries an offset"),
    tz: z.string().max(64).optional().describe("the IANA zone of time (the browser's); UTC when absent"),
  })
  .strict();

const jobParams = z.object({ id: z.uuid({ message: "expected a find id" }) });

/** What a finished or running find answers: the archive's row at once, or a job to follow. */
const findAnswer = z.object({
  status: z.enum(["found", "running", "failed"]),
  id: z.string().optional(),
  events: z.string().optional(),
  result: z.unknown().optional(),
  message: z.string().optional(),
});

function archived(row: ArchiveRow): FindResult {
  return {
    source: "archive",
    login: row.login,
    streamId: row.streamId,
    startTime: row.startTime,
    playlist: row.playlist!,
    cdnUrl: null,
    live: false,
    requests: 0,
    seconds: 0,
    segments: row.segments,
    checkedSegments: null,
    deadSegments: null,
  };
}

/** The takedown that covers what was pasted: its login, its stream or its video. */
async function takenDown(
  db: ReadPool,
  ask: FindAsk,
  signal: AbortSignal,
): Promise<{ what: string; takedown: Takedown } | null> {
  const login = ask.login ? await removedStreamer(db, ask.login, signal) : null;
  if (login) return { what: `${ask.login}'s VODs`, takedown: login };
  if (ask.kind === "stream") {
    const stream = await removedStream(db, ask.streamId, signal);
    return stream && { what: `stream ${ask.streamId}`, takedown: stream };
  }
  if (ask.kind === "video") {
    const video = await removedVideo(db, ask.videoId, signal);
    return video && { what: `video ${ask.videoId}`, takedown: video };
  }
  return null;
}

/** A stream id alone names no login: the CDN's paths need one, so the archive must know it. */
function needsLogin(ask: FindAsk, seen: ArchiveRow | null): string | null {
  if (ask.kind !== "stream" || ask.login || seen) return null;
  return `stream ${ask.streamId} is not in our archive, and a stream id alone does not name the channel: paste the stream's TwitchTracker, StreamsCharts or SullyGnome link, which names both`;
}

/**
 * `/v1/finds`: the page's Find box. The archive answers first (no CDN request); otherwise a search
 * (`recover`) runs as a job in this process, its progress streamed (`/finds/{id}/events`), its
 * playlist served from memory. Searches take CDN turns the fetchers leave (their budget in Redis),
 * one at a time per client and a few an hour.
 */
export const findRoutes: FastifyPluginAsyncZod<FindOptions> = async (app, o) => {
  const jobs = new FindJobs({ keepMs: o.keepMs, maxKept: 500 });
  const limits = new FindLimits(jobs, { perHour: o.perClientPerHour, maxRunning: o.maxRunning });
  const search = await openSearch(o, app.db, app.clock, app.log);
  app.addHook("preClose", async () => jobs.close());
  app.addHook("onClose", async () => search?.close());

  app.post(
    "/finds",
    {
      schema: {
        tags: ["find"],
        summary: "Find a VOD: the archive first, else a CDN search as a job",
        body: findBody,
        response: {
          200: findAnswer,
          202: findAnswer,
          400: errorBody,
          404: errorBody,
          410: goneBody,
          429: errorBody,
          503: errorBody,
        },
      },
    },
    async (req, reply) => {
      const ask = readFindInput(req.body.input, req.body.time, req.body.tz, app.clock.now());
      // A streamer who asked to be left out is not searched for either: the page serves nothing of theirs.
      const gone = await takenDown(app.db, ask, req.clientSignal);
      if (gone) return sendGone(reply, gone.what, gone.takedown);
      const row = await fromArchive(app.db, ask, req.clientSignal);
      if (row?.playlist) return reply.code(200).send({ status: "found", result: archived(row) });
      const missing = needsLogin(ask, row);
      if (missing) return reply.code(404).send({ error: "Not Found", message: missing });
      if (!search) {
        return reply.code(503).send({
          error: "Service Unavailable",
          message:
            "not in our archive, and this API searches the CDN only with the fetchers' shared budget (REDIS_URL), which is not set",
        });
      }
      const now = Date.now();
      const refused = limits.check(req.ip, now);
      if (refused) {
        return reply
          .code(429)
          .header("retry-after", String(refused.retryAfterSeconds))
          .send({ error: "Too Many Requests", message: refused.message });
      }
      limits.record(req.ip, now);
      const job = jobs.create(req.ip);
      // Seen live: its exact start and login make the search short.
      const exact = row && { ms: Date.parse(row.startTime), precision: "second" as const };
      const withSeen: FindAsk = row ? { kind: "stream", streamId: row.streamId, login: row.login, time: exact! } : ask;
      job.progress(
        row
          ? `our archive saw it live (${row.startTime}) without a playlist; searching`
          : "not in our archive; searching",
      );
      void runFind(job, withSeen, search.deps);
      const events = `/v1/finds/${job.id}/events`;
      return reply.code(202).header("location", `/v1/finds/${job.id}`).send({ status: "running", id: job.id, events });
    },
  );

  app.get(
    "/finds/:id",
    { schema: { tags: ["find"], summary: "A find's state and its events so far", params: jobParams } },
    async (req, reply) => {
      const job = jobs.get(req.params.id);
      if (!job)
        return reply
          .code(404)
          .send({ error: "Not Found", message: `no find ${req.params.id} (finished ones are kept for a while)` });
      const last = job.events.at(-1);
      return {
        status: last?.type === "found" ? "found" : last?.type === "failed" ? "failed" : "running",
        id: job.id,
        events: job.events,
        ...(last?.type === "found" ? { result: last.result } : {}),
      };
    },
  );

  app.delete(
    "/finds/:id",
    { schema: { tags: ["find"], summary: "Cancel a running find (its client only)", params: jobParams } },
    async (req, reply) => {
      const job = jobs.get(req.params.id);
      if (!job || job.client !== req.ip)
        return reply.code(404).send({ error: "Not Found", message: `no find ${req.params.id} of yours` });
      job.abort.abort(new Error("cancelled by the client"));
      return reply.code(204).send();
    },
  );

  app.get(
    "/finds/:id/index.m3u8",
    { schema: { tags: ["find"], summary: "The playlist a find recovered (made playable)", params: jobParams } },
    async (req, reply) => {
      const playlist = jobs.get(req.params.id)?.playlist;
      if (!playlist)
        return reply.code(404).send({ error: "Not Found", message: `no playlist for find ${req.params.id}` });
      return reply.type("application/vnd.apple.mpegurl").header("cache-control", "private, max-age=60").send(playlist);
    },
  );

  app.register(findEvents, { jobs });
};
