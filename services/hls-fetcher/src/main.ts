import { clockFromEnv } from "@vod/clock";
import { createDb, createPool, runMigrations } from "@vod/db";
import { createKafka, createProducer } from "@vod/kafka";
import { createLogger, redactUrl } from "@vod/log";
import { createRegistry, exitAfter, onShutdown, startOpsServer } from "@vod/service";
import { readEnv } from "./env.ts";
import { InstanceRefused } from "./instances.ts";
import { startFetcher } from "./service.ts";

const env = readEnv();
const log = createLogger({ service: "hls-fetcher", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
const pool = createPool({ url: env.DATABASE_URL, max: 2, applicationName: "hls-fetcher" });
const db = createDb(pool);
log.info(
  {
    db: redactUrl(env.DATABASE_URL),
    brokers: env.KAFKA_BROKERS,
    prefix: env.TOPIC_PREFIX,
    cdn: env.CDN_URL_TEMPLATE,
    redis: env.REDIS_URL ? redactUrl(env.REDIS_URL) : null,
    egress: env.CDN_EGRESS,
  },
  "starting hls-fetcher",
);
await runMigrations(db);
const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "hls-fetcher", log });
const producer = await createProducer(kafka, log);
const registry = createRegistry("hls-fetcher");
// A dead consumer: /healthz fails at once, the process exits 1 shortly after.
const onFatal = exitAfter(env.FATAL_EXIT_DELAY);
const fetcher = await startFetcher(env, {
  kafka,
  producer,
  db,
  clock: clockFromEnv(env),
  log,
  registry,
  onFatal,
}).catch(async (err: unknown) => {
  // A configuration that would break the one CDN budget stops the service at start, saying why.
  log.fatal(err instanceof InstanceRefused ? { reason: err.message } : { err }, "hls-fetcher refused to start");
  await producer.disconnect().catch(() => undefined);
  await pool.end().catch(() => undefined);
  process.exit(1);
});
const ops = await startOpsServer({
  port: env.OPS_PORT,
  host: env.OPS_HOST,
  log,
  registry,
  checks: {
    consumer: () => fetcher.consumer.healthy(),
    // A Redis that stopped answering fails every CDN request's turn.
    redis: () => fetcher.limiter.responsive(),
    postgres: async () => (await pool.query("select 1")).rowCount === 1,
  },
});
shutdown.add("fetcher", () => fetcher.stop());
shutdown.add("producer", () => producer.disconnect());
shutdown.add("ops", () => ops.close());
shutdown.add("postgres", () => pool.end());
