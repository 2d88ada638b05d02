import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import type { Db } from "./pool.ts";

export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), "../../../drizzle");

const LOCK = "select pg_advisory_lock(hashtext('vod-archiver migrations'))";
const UNLOCK = "select pg_advisory_unlock(hashtext('vod-archiver migrations'))";

/**
 * Applies the drizzle-kit migrations in `drizzle/` that the database has not seen; safe to run
 * again. Services may start together on an empty database, so one migrates at a time: the lock is
 * held on a connection of its own (the pool needs room for two).
 */
export async function runMigrations(db: Db): Promise<void> {
  const lock = await db.$client.connect();
  try {
    await lock.query(LOCK);
    await migrate(db, { migrationsFolder });
  } finally {
    await lock.query(UNLOCK).catch(() => undefined);
    lock.release();
  }
}
