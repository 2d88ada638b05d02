import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import type { Db } from "./pool.ts";

export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), "../../../drizzle");

/** Applies the drizzle-kit migrations in `drizzle/` that the database has not seen; safe to run again. */
export async function runMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder });
}
