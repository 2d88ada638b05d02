import fp from "fastify-plugin";
import type { Clock } from "@vod/clock";
import type { ReadPool } from "./db.ts";

export interface AppDeps {
  db: ReadPool;
  clock: Clock;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The read-only pool every route queries through. */
    db: ReadPool;
    clock: Clock;
  }
}

/** The database pool and the clock, decorated on the root instance: every route plugin reads them from there. */
export const appDeps = fp<AppDeps>(
  async (app, o) => {
    app.decorate("db", o.db);
    app.decorate("clock", o.clock);
  },
  { name: "deps", fastify: "5.x" },
);
