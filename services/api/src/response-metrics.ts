import fp from "fastify-plugin";
import { Counter, type Registry } from "prom-client";

/**
 * Responses by route and status, and requests shed with 503. start.ts counts its own refusals (the
 * in-flight limit, ahead of Fastify) in the same `api_requests_shed_total`, found in the registry by name.
 */
export const responseMetrics = fp<{ registry: Registry }>(
  async (app, o) => {
    const shed = new Counter({
      name: "api_requests_shed_total",
      help: "Requests answered 503 because the API was overloaded",
      labelNames: ["reason"],
      registers: [o.registry],
    });
    const answered = new Counter({
      name: "api_responses_total",
      help: "Responses by route and status",
      labelNames: ["route", "status"],
      registers: [o.registry],
    });
    app.addHook("onResponse", async (req, reply) => {
      answered.inc({ route: req.routeOptions.url ?? "unknown", status: String(reply.statusCode) });
      if (reply.statusCode === 503) shed.inc({ reason: "overloaded" });
    });
  },
  { name: "response-metrics", fastify: "5.x" },
);
