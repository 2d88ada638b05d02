import underPressure from "@fastify/under-pressure";
import fp from "fastify-plugin";

export interface PressureOptions {
  /** Event-loop delay (ms) above which requests are shed. */
  maxEventLoopDelayMs: number;
  /** Requests allowed to wait for a database connection; more and requests are shed. */
  dbQueueMax: number;
  retryAfterSeconds: number;
  /** How often the loop delay and the pool's wait queue are sampled (ms). */
  sampleMs: number;
}

/** Load shedding with @fastify/under-pressure: 503 with Retry-After while the loop lags or the pool's queue is full. */
export const pressure = fp<PressureOptions>(
  async (app, o) => {
    const { db } = app;
    await app.register(underPressure, {
      maxEventLoopDelay: o.maxEventLoopDelayMs,
      sampleInterval: o.sampleMs,
      // The pool's wait queue, sampled: while it is full every new request is refused at once.
      healthCheck: async () => db.waiting() < o.dbQueueMax,
      healthCheckInterval: o.sampleMs,
      retryAfter: o.retryAfterSeconds,
      pressureHandler: (_req, reply, type) => {
        void reply
          .code(503)
          .header("retry-after", String(o.retryAfterSeconds))
          .send({ error: "Service Unavailable", message: `overloaded (${type}); retry later` });
      },
    });
  },
  { name: "pressure", fastify: "5.x", dependencies: ["deps"] },
);
