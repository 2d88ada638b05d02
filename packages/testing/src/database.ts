import "./context.ts";
import { inject } from "vitest";
import pg from "pg";
import { createDb, createPool, runMigrations, type Db } from "@vod/db";
import { uniqueName } from "./names.ts";

export interface TestDatabase {
  /** The owner's login (vod): migrations, writes. */
  url: string;
  /** The API's login (vod_api, read-only) on this database. */
  apiUrl: string;
  pool: pg.Pool;
  db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A new, migrated database on the test PostgreSQL, for one test file. */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("databaseUrl");
  const name = uniqueName("test").replace(/-/g, "_");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ url: url.toString(), max: 4 });
  const db = createDb(pool);
  await runMigrations(db);
  return {
    url: url.toString(),
    get apiUrl() {
      const api = inject("apiDatabaseUrl");
      if (!api) throw new Error("no login for the API: run `npm run infra:up`, or set API_DATABASE_URL");
      const u = new URL(api);
      u.pathname = `/${name}`;
      return u.toString();
    },
    pool,
    db,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // An autovacuum worker (a superuser's session) in the database cannot be terminated by this
        // role: the drop fails with 42501 until it is done, which takes a moment.
        for (let attempt = 0; ; attempt++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            break;
          } catch (err) {
            if ((err as { code?: string }).code !== "42501" || attempt >= 50) throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}
