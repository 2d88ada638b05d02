import { createDb, createPool, runMigrations } from "@vod/db";
import { createKafka, createProducer } from "@vod/kafka";
import { createLogger, redactUrl } from "@vod/log";
import { createRegistry, exitAfter, onShutdown, startOpsServer } from "@vod/service";
import { readEnv } from "./env.ts";
import { startWriter } from "./writer.ts";

const env = readEnv();
const log = createLogger({ service: "writer", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
const pool = createPool({ url: env.DATABASE_URL, max: env.DB_POOL_MAX, applicationName: "writer" });
const db = createDb(pool);
log.info({ db: redactUrl(env.DATABASE_URL), brokers: env.KAFKA_BROKERS, prefix: env.TOPIC_PREFIX }, "starting writer");
await runMigrations(db);
const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "writer", log });
const producer = await createProducer(kafka, log);
const registry = createRegistry("writer");
// A dead consumer: /healthz fails at once, the process exits 1 shortly after.
const consumer = await startWriter(env, {
  kafka,
  producer,
  db,
  log,
  registry,
  onFatal: exitAfter(env.FATAL_EXIT_DELAY),
});
const ops = await startOpsServer({
  port: env.OPS_PORT,
  host: env.OPS_HOST,
  log,
  registry,
  checks: { consumer: () => consumer.healthy(), postgres: async () => (await pool.query("select 1")).rowCount === 1 },
});
shutdown.add("consumer", () => consumer.stop());
shutdown.add("producer", () => producer.disconnect());
shutdown.add("ops", () => ops.close());
shutdown.add("postgres", () => pool.end());
