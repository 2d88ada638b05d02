import pg from "pg";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import * as schema from "./schema.ts";

export interface PoolOptions {
  url: string;
  /** Connections at most; the services are batch writers, a few suffice. */
  max?: number;
  idleTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Server-side limit per statement, so a stuck query fails instead of holding a batch forever. */
  statementTimeoutMs?: number;
  applicationName?: string;
}

export function createPool({
  url,
  max = 4,
  idleTimeoutMs = 30_000,
  connectionTimeoutMs = 5_000,
  statementTimeoutMs = 30_000,
  applicationName = "vod-archiver",
}: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: idleTimeoutMs,
    connectionTimeoutMillis: connectionTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // The client's own limit and TCP keepalive: a server that stops answering must not hold a batch for minutes.
    query_timeout: statementTimeoutMs + 5_000,
    keepAlive: true,
    application_name: applicationName,
  });
  // An idle client losing its connection (server restart) must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  return pool;
}

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}

export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

const RETRYABLE = new Set(["40001", "40P01"]);

/** Runs `work` in one transaction; serialization failures and deadlocks are retried a few times. */
export async function withTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (err) {
      const code =
        (err as { code?: string; cause?: { code?: string } }).code ??
        (err as { cause?: { code?: string } }).cause?.code;
      if (attempt >= attempts || !code || !RETRYABLE.has(code)) throw err;
    }
  }
}
