import { clockFromEnv, type Clock } from "@vod/clock";
import { createDb, createPool, runMigrations } from "@vod/db";
import { createKafka, createProducer } from "@vod/kafka";
import { redactUrl, type Logger } from "@vod/log";
import { createRegistry, startOpsServer } from "@vod/service";
import type { FetcherEnv } from "./env.ts";
import { startFetcher, type RunningFetcher } from "./service.ts";

export interface StartedFetcher {
  fetcher: RunningFetcher;
  /** Stops the fetcher, then closes the producer, the ops server and the pool; each step runs even if one before it failed. */
  stop(): Promise<void>;
}

/**
 * Wires hls-fetcher: Postgres (migrations), Kafka, the fetcher (its Redis budget among its parts), the
 * ops server. `onFatal` is called once if the consumer dies. A fetcher refused at start (a second
 * budget in its group, RESULT_MAX_BYTES, Redis) closes what was opened and rejects with the reason.
 */
export async function start(
  env: FetcherEnv,
  log: Logger,
  clock: Clock = clockFromEnv(env),
  onFatal?: () => void,
): Promise<StartedFetcher> {
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
  const fetcher = await startFetcher(env, {
    kafka,
    producer,
    db,
    clock,
    log,
    registry,
    ...(onFatal ? { onFatal } : {}),
  }).catch(async (err: unknown) => {
    await producer.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw err;
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
  const steps: [string, () => Promise<void>][] = [
    ["fetcher", () => fetcher.stop()],
    ["producer", () => producer.disconnect()],
    ["ops", () => ops.close()],
    ["postgres", () => pool.end()],
  ];
  return {
    fetcher,
    stop: async () => {
      const failures: unknown[] = [];
      for (const [step, run] of steps)
        await run().catch((err: unknown) => {
          log.error({ err, step }, "shutdown step failed");
          failures.push(err);
        });
      if (failures.length > 0) throw failures[0];
    },
  };
}
