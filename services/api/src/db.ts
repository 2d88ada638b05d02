import { createHash } from "node:crypto";
import pg from "pg";

export interface ReadPoolOptions {
  url: string;
  max: number;
  /** Requests allowed to wait for a connection; past this, `read` refuses at once. */
  queueMax: number;
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
}

/** Raised when the pool's wait queue is full or a connection does not come in time: the request is answered 503. */
export class OverloadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OverloadedError";
  }
}

/** Raised when the client went away before its query finished. */
export class AbortedError extends Error {
  constructor() {
    super("the client went away");
    this.name = "AbortedError";
  }
}

export interface ReadPool {
  pool: pg.Pool;
  /** Runs one read-only statement for a request; cancelled in PostgreSQL when `signal` aborts. */
  read<R extends pg.QueryResultRow>(text: string, values: unknown[], signal?: AbortSignal): Promise<R[]>;
  /** Requests waiting for a connection right now. */
  waiting(): number;
  close(): Promise<void>;
}

const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `api_${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * The API's login (drizzle/0006, 0007): SELECT on what the API reads, a member of no role, so a session of
 * it cannot `SET ROLE` to a writer. Its password is set by infra/lib.sh and the compose `init` job.
 */
export const API_ROLE = "vod_api";

export function createReadPool(o: ReadPoolOptions): ReadPool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: o.acquireTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    query_timeout: o.statementTimeoutMs + 1_000,
    keepAlive: true,
    application_name: "api",
    // DATABASE_URL logs in as vod_api (infra's API_DATABASE_URL), whose privileges are what keeps the archive
    // safe. Acting as it and read-only transactions are asked for again, so an owner's URL given by mistake still
    // answers requests without writing (though then `SET ROLE` could undo both). The server checks
    // the socket during a long statement, so one whose client was dropped stops within half a second.
    options: `-c role=${API_ROLE} -c default_transaction_read_only=on -c client_connection_check_interval=500`,
  });
  pool.on("error", () => undefined);

  const read = async <R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    signal?: AbortSignal,
  ): Promise<R[]> => {
    if (signal?.aborted) throw new AbortedError();
    if (pool.waitingCount >= o.queueMax) {
      throw new OverloadedError(`${pool.waitingCount} requests already wait for a database connection`);
    }
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      if (/timeout/i.test((err as Error).message))
        throw new OverloadedError(`no database connection within ${o.acquireTimeoutMs} ms`);
      throw err;
    }
    if (signal?.aborted) {
      client.release();
      throw new AbortedError();
    }
    let aborted = false;
    // Dropping the connection is the cancellation: the server notices the closed socket and stops the statement.
    const onAbort = () => {
      aborted = true;
      client.release(new AbortedError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      // Named: each connection parses and plans a statement once, then only binds and executes it.
      const result = await client.query<R>({ name: statementName(text), text, values });
      return result.rows;
    } catch (err) {
      if (aborted) throw new AbortedError();
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!aborted) client.release();
    }
  };

  return { pool, read, waiting: () => pool.waitingCount, close: () => pool.end() };
}
