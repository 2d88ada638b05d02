// Gives the API's role (vod_api, made by the migrations) the password in API_DATABASE_PASSWORD, so it can log
// in. Run by the compose `init` job after the migrations, as the owner (CREATEROLE), on every start: a
// changed password takes effect at the next `docker compose up`. infra/lib.sh does the same as the superuser.
import pg from "pg";
import { createLogger, redactUrl } from "@vod/log";
import { env } from "./env.ts";

const log = createLogger({ service: "db-api-login" });
if (!env.API_DATABASE_PASSWORD) throw new Error("API_DATABASE_PASSWORD is not set");
const client = new pg.Client({ connectionString: env.DATABASE_URL });
await client.connect();
try {
  await client.query(`ALTER ROLE vod_api WITH LOGIN PASSWORD ${client.escapeLiteral(env.API_DATABASE_PASSWORD)}`);
  log.info({ database: redactUrl(env.DATABASE_URL) }, "the API's login vod_api has its password");
} finally {
  await client.end();
}
