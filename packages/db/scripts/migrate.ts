// Applies pending migrations from drizzle/ to DATABASE_URL.
import { createLogger, redactUrl } from "@vod/log";
import { createDb, createPool, runMigrations } from "../src/index.ts";
import { env } from "./env.ts";

const log = createLogger({ service: "db-migrate" });
const pool = createPool({ url: env.DATABASE_URL, max: 2 });
try {
  await runMigrations(createDb(pool));
  log.info({ database: redactUrl(env.DATABASE_URL) }, "migrations applied");
} finally {
  await pool.end();
}
