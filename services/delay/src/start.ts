import { clockFromEnv, type Clock } from "@vod/clock";
import {
  copartitionProblem,
  createCatalog,
  createKafka,
  createProducer,
  createTopics,
  STREAM_PARTITIONS,
} from "@vod/kafka";
import type { Logger } from "@vod/log";
import { createRegistry, startOpsServer } from "@vod/service";
import { startDelay, type RunningDelay } from "./delay.ts";
import type { DelayEnv } from "./env.ts";
import { migrateState } from "./migrate.ts";

export interface StartedDelay {
  delay: RunningDelay;
  close(): Promise<void>;
}

/** Wires delay: topics, producer, state restore, consumer, release loop, ops server. Shared by main.ts and tests. */
export async function start(
  env: DelayEnv,
  log: Logger,
  clock: Clock = clockFromEnv(env),
  onFatal?: (reason: string, err?: unknown) => void,
): Promise<StartedDelay> {
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "delay", log });
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const topics = [
    catalog.streamSnapshots,
    catalog.sweeps,
    catalog.vodFetchRequests,
    catalog.vodFetchResults,
    catalog.delayState,
  ];
  await createTopics(kafka, topics, log);
  // State is kept per snapshot partition: topics created by an older layout would mix streamers.
  const problem = await copartitionProblem(
    kafka,
    topics.map((t) => t.name),
    STREAM_PARTITIONS,
  );
  if (problem) throw new Error(`delay cannot start: ${problem}`);
  const producer = await createProducer(kafka, log);
  if (env.MIGRATE_STATE) await migrateState(kafka, producer, catalog, env.GROUP_ID, log);
  const registry = createRegistry("delay");
  const delay = await startDelay(env, { kafka, producer, clock, log, registry, ...(onFatal ? { onFatal } : {}) });
  const ops = await startOpsServer({
    port: env.OPS_PORT,
    host: env.OPS_HOST,
    log,
    registry,
    checks: { consumer: () => delay.healthy() },
  });
  return {
    delay,
    close: async () => {
      await delay.stop();
      await producer.disconnect();
      await ops.close();
    },
  };
}
