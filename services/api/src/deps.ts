import type { Clock } from "@vod/clock";
import type { ReadPool } from "./db.ts";

export interface AppDeps {
  db: ReadPool;
  clock: Clock;
  /** How long aggregates (/categories, /languages) are reused. */
  aggregateTtlMs: number;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Aborts when the client goes away before its answer is sent; queries run with it are cancelled. */
    clientSignal: AbortSignal;
  }
}
