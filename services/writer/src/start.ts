import { createDb, createPool, runMigrations } from "@vod/db";
import { createKafka, createProducer } from "@vod/kafka";
import { redactUrl, type Logger } from "@vod/log";
import { createRegistry, startOpsServer } from "@vod/service";
import type { WriterEnv } from "./env.ts";
import { startWriter } from "./writer.ts";

export interface StartedWriter {
  /** True while the consumer runs (false once it died: the process is about to exit). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** Wires the writer: migrations, Kafka, the consumer, the ops server. `onFatal` is called once if the consumer dies. */
export async function start(env: WriterEnv, log: Logger, onFatal?: () => void): Promise<StartedWriter> {
  const pool = createPool({ url: env.DATABASE_URL, max: env.DB_POOL_MAX, applicationName: "writer" });
  const db = createDb(pool);
  log.info(
    { db: redactUrl(env.DATABASE_URL), brokers: env.KAFKA_BROKERS, prefix: env.TOPIC_PREFIX },
    "starting writer",
  );
  await runMigrations(db);
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "writer", log });
  const producer = await createProducer(kafka, log);
  const registry = createRegistry("writer");
  const consumer = await startWriter(env, { kafka, producer, db, log, registry, ...(onFatal ? { onFatal } : {}) });
  const ops = await startOpsServer({
    port: env.OPS_PORT,
    host: env.OPS_HOST,
    log,
    registry,
    checks: { consumer: () => consumer.healthy(), postgres: async () => (await pool.query("select 1")).rowCount === 1 },
  });
  return {
    healthy: () => consumer.healthy(),
    // Each step runs even if one before it failed (the pool is closed whatever the consumer did), and each failure is logged by name.
    close: async () => {
      const steps: [string, () => Promise<void>][] = [
        ["consumer", () => consumer.stop()],
        ["producer", () => producer.disconnect()],
        ["ops", () => ops.close()],
        ["postgres", () => pool.end()],
      ];
      let failed: unknown;
      for (const [step, close] of steps)
        await close().catch((err: unknown) => {
          log.error({ err, step }, "closing the writer: step failed");
          failed ??= err;
        });
      if (failed !== undefined) throw failed;
    },
  };
}
