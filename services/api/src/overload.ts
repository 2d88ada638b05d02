/**
 * A limit on requests in flight, ahead of Fastify: a request over it is answered 503 with Retry-After
 * from Node's HTTP layer, before routing, hooks, validation or the cache. At five times the rate the
 * API can answer, four requests in five are refused, so a refusal has to cost far less than an answer
 * for the loop to keep up; here it costs Node's parsing and one write.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";

export interface InFlightLimit {
  /** Requests being handled at most (0: no limit). */
  maxInFlight: number;
  retryAfterSeconds: number;
  /** Called for each refusal (a metric). */
  onShed?: () => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const BODY = JSON.stringify({ error: "Service Unavailable", message: "overloaded (in flight); retry later" });

const releases = new WeakMap<ServerResponse, () => void>();

/**
 * A long-lived answer (a stream of server-sent events) leaves the count: it holds no database connection,
 * and its route caps such streams itself, so it must not take a slot for minutes.
 */
export function leaveInFlight(res: ServerResponse): void {
  releases.get(res)?.();
}

/** Wraps the server's request handler (Fastify's) in the limit; returns the requests in flight, for a gauge. */
export function limitInFlight(server: Server, o: InFlightLimit): () => number {
  let inFlight = 0;
  if (o.maxInFlight <= 0) return () => inFlight;
  const handlers = server.listeners("request") as Handler[];
  server.removeAllListeners("request");
  const headers = {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(BODY)),
    "retry-after": String(o.retryAfterSeconds),
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (inFlight >= o.maxInFlight) {
      o.onShed?.();
      res.writeHead(503, headers).end(BODY);
      return;
    }
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
    };
    // "prefinish" fires within end(): the work is done, only the kernel's write remains, and answers
    // from the cache must not hold slots across the loop's turn. "close": a client that left before its answer.
    res.once("prefinish", release);
    res.once("close", release);
    releases.set(res, release);
    for (const h of handlers) h(req, res);
  });
  return () => inFlight;
}
