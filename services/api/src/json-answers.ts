import type { FastifyReply, FastifyRequest } from "fastify";

type Body = { body: string };

/** Sends JSON text (built by PostgreSQL) as it is. */
export function json(reply: FastifyReply, body: string | Buffer): FastifyReply {
  return reply
    .type("application/json; charset=utf-8")
    .serializer((s) => s as string)
    .send(body);
}

/**
 * The list cache's key of a compatible route: the route and its validated, normalised path parameters.
 * The query string is left out, and ignored: the original system ignored it, and its clients may add
 * their own (cache busters, tokens); kept in the key, each distinct one would take an entry.
 */
export function routeKey(req: FastifyRequest): string {
  return `${req.routeOptions.url ?? ""} ${JSON.stringify(req.params)}`;
}

/** The JSON array one statement builds, through the list cache (keyed by the route and its parameters), encoded once. */
export async function listJson(req: FastifyRequest, text: string, values: unknown[]): Promise<Buffer> {
  const { listCache, db } = req.server;
  return listCache.get(routeKey(req), req.clientSignal, async (signal) =>
    Buffer.from((await db.read<Body>(text, values, signal))[0]?.body ?? "[]"),
  );
}
