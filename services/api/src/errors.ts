import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AbortedError, OverloadedError } from "./db.ts";

import { z } from "zod";

/** The body of every 4xx and 5xx. */
export const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  problems: z.array(z.object({ parameter: z.string(), problem: z.string() })).optional(),
});

export interface Problem {
  parameter: string;
  problem: string;
}

/** A 4xx naming the parameter and what is wrong with it. */
export class BadRequest extends Error {
  constructor(
    readonly problems: Problem[],
    readonly statusCode = 400,
  ) {
    super(problems.map((p) => `${p.parameter}: ${p.problem}`).join("; "));
    this.name = "BadRequest";
  }
}

const STATEMENT_CANCELLED = "57014";

/**
 * The database did not answer in time: PostgreSQL cancelled the statement (57014), or the client gave
 * up waiting for its answer (pg's `query_timeout`, which has no SQLSTATE). Both are load, not a fault.
 */
export function isDatabaseTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === STATEMENT_CANCELLED || e?.message === "Query read timeout";
}

/** Every error becomes a JSON body: 4xx naming the parameter, 503 with Retry-After when overloaded, 500 otherwise. */
export function installErrorHandlers(app: FastifyInstance, retryAfterSeconds: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const problems = err.validation.flatMap((v) => {
        // An unknown parameter is named as itself, not as the querystring that carried it.
        const unknown = v.keyword === "unrecognized_keys" ? (v.params as { keys?: unknown }).keys : undefined;
        if (Array.isArray(unknown) && unknown.length > 0)
          return unknown.map((k) => ({ parameter: String(k).slice(0, 100), problem: "not a parameter of this route" }));
        return [
          {
            parameter:
              String(v.instancePath ?? "")
                .replace(/^\//, "")
                .replace(/\//g, ".") ||
              (err.validationContext ?? "request"),
            problem: v.message ?? "invalid",
          },
        ];
      });
      return reply.code(400).send({
        error: "Bad Request",
        message: problems.map((p) => `${p.parameter}: ${p.problem}`).join("; "),
        problems,
      });
    }
    if (err instanceof BadRequest) {
      return reply
        .code(err.statusCode)
        .send({ error: STATUS_CODES[err.statusCode] ?? "Bad Request", message: err.message, problems: err.problems });
    }
    if (err instanceof OverloadedError || isDatabaseTimeout(err)) {
      return reply
        .code(503)
        .header("retry-after", String(retryAfterSeconds))
        .send({ error: "Service Unavailable", message: "overloaded; retry later" });
    }
    if (err instanceof AbortedError) {
      // Nobody is listening any more; the status is for the log alone.
      return reply.code(499).send();
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.name, message: err.message });
    }
    request.log.error({ err }, "request failed");
    return reply.code(500).send({ error: "Internal Server Error", message: "the request failed; see the server log" });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: "Not Found",
      message: `no route ${request.method} ${request.url.split("?")[0]}`,
      problems: [{ parameter: "path", problem: "no such route" }],
    }),
  );
}

/** The handlers above on the root instance, so every route plugin, whatever its prefix, answers errors alike. */
export const errorHandling = fp<{ retryAfterSeconds: number }>(
  async (app, o) => installErrorHandlers(app, o.retryAfterSeconds),
  { name: "error-handling", fastify: "5.x" },
);
