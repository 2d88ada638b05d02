import type { ServerResponse } from "node:http";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { FindEvent, FindJobs } from "./find-jobs.ts";
import { leaveInFlight } from "./overload.ts";

/** Event streams open at once; one more is answered 503. They hold no database connection. */
const MAX_STREAMS = 200;
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

const frame = (e: FindEvent, index: number) => `id: ${index}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/**
 * `/finds/{id}/events`: a find's progress as server-sent events (`progress`, then `found` or
 * `failed`), from the first or from after `Last-Event-ID` (EventSource reconnecting). The stream ends
 * with the find; a stream asked for after its end with nothing new is answered 204, which stops
 * EventSource from reconnecting.
 */
export const findEvents: FastifyPluginAsyncZod<{ jobs: FindJobs }> = async (app, { jobs }) => {
  const open = new Set<ServerResponse>();
  // Streams would hold the server's close until their finds end.
  app.addHook("preClose", async () => {
    for (const res of open) res.destroy();
  });
  app.get(
    "/finds/:id/events",
    {
      schema: {
        tags: ["find"],
        summary: "A find's progress, as server-sent events",
        params: z.object({ id: z.uuid({ message: "expected a find id" }) }),
      },
    },
    async (req, reply) => {
      const job = jobs.get(req.params.id);
      if (!job) return reply.code(404).send({ error: "Not Found", message: `no find ${req.params.id}` });
      const last = Number(req.headers["last-event-id"] ?? -1);
      const from = Number.isInteger(last) && last >= -1 ? last + 1 : 0;
      if (job.done && from >= job.events.length) return reply.code(204).send();
      if (open.size >= MAX_STREAMS)
        return reply
          .code(503)
          .header("retry-after", "5")
          .send({ error: "Service Unavailable", message: "too many progress streams open; retry later" });
      reply.hijack();
      const res = reply.raw;
      leaveInFlight(res);
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
        // The stream's end ends the connection: a reconnect opens its own, and a closing server waits for none.
        connection: "close",
      });
      res.write("retry: 1000\n\n");
      for (let i = from; i < job.events.length; i++) res.write(frame(job.events[i]!, i));
      const heartbeat = setInterval(() => res.write(": still searching\n\n"), HEARTBEAT_MS);
      let unsubscribe: () => void = () => undefined;
      const end = () => {
        clearInterval(heartbeat);
        unsubscribe();
        if (!res.writableEnded) res.end();
      };
      open.add(res);
      res.once("close", () => {
        open.delete(res);
        end();
      });
      if (job.done) return end();
      unsubscribe = job.subscribe((e, i) => {
        res.write(frame(e, i));
        if (job.done) end();
      });
    },
  );
};
