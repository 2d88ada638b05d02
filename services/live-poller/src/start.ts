import { clockFromEnv, type Clock } from "@vod/clock";
import { createCatalog, createKafka, createProducer, createTopics } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { createRegistry, startOpsServer } from "@vod/service";
import type { GqlBatchClient } from "@vod/twitch";
import { loadCursors } from "./cursors.ts";
import type { PollerEnv } from "./env.ts";
import { rateLimitedGql } from "./gql-client.ts";
import { SweepHistory } from "./integrity.ts";
import { LastSweep } from "./last-sweep.ts";
import { createPollerMetrics } from "./metrics.ts";
import type { Published } from "./publisher.ts";
import { startSweepLoop, type SweepLoopDeps } from "./sweep-loop.ts";

export interface StartedPoller {
  stopPolling(): Promise<void>;
  close(): Promise<void>;
  /** Sweep markers published so far. */
  readonly sweeps: number;
}

/** What a caller may put in place of the defaults: a GQL client (tests, the bench), what to do when the loop dies. */
export interface StartOptions {
  /** Replaces the GQL client built from the environment (tests, the bench). */
  gql?: GqlBatchClient;
  /** Called once if the sweep loop dies: the process should exit non-zero so its supervisor restarts it. */
  onCrash?(err: unknown): void;
  /** Called as each POST leaves the limiter (the bench measures the rate the endpoint sees). */
  onPost?(): void;
  /** Called after each sweep with what it cost and what the lookup by id added (the bench). */
  onSweep?: SweepLoopDeps["onSweep"];
  /** Called with snapshots and markers once Kafka acknowledged them (the bench). */
  onPublished?(event: Published): void;
}

/**
 * Wires the poller: topics, producer, the cursors the last sweep saved, the rate-limited GQL client,
 * the sweep loop, ops server. Shared by main.ts and tests.
 */
export async function start(
  env: PollerEnv,
  log: Logger,
  clock: Clock = clockFromEnv(env),
  options: StartOptions = {},
): Promise<StartedPoller> {
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "live-poller", log });
  const catalog = createCatalog(env.TOPIC_PREFIX);
  await createTopics(kafka, [catalog.streamSnapshots, catalog.sweeps, catalog.sweepCursors], log);
  const producer = await createProducer(kafka, log);
  // The last sweep before a restart (saved cursors, streamers published): the first sweep is cut at
  // its pages and looks up its streamers.
  const saved = await loadCursors(
    kafka,
    catalog,
    `${env.TOPIC_PREFIX}live-poller.cursors-restore`,
    clock.now(),
    env.CURSORS_MAX_AGE,
    log,
  );
  if (saved.pages.size > 0)
    log.info(
      { shards: [...saved.pages.keys()], published: saved.published.size },
      "first sweep cut at the cursors saved by the last one",
    );
  const registry = createRegistry("live-poller");
  const metrics = createPollerMetrics(registry);
  const client = options.gql
    ? { gql: options.gql, stop: async () => undefined }
    : rateLimitedGql(env, metrics.posts, options.onPost);
  const history = new SweepHistory({
    minRatio: env.SWEEP_MIN_RATIO,
    history: env.SWEEP_HISTORY,
    minMedian: env.SWEEP_MIN_MEDIAN,
  });
  const loop = startSweepLoop(env, {
    producer,
    catalog,
    metrics,
    clock,
    log,
    gql: client.gql,
    history,
    last: new LastSweep(saved),
    onCrash: options.onCrash,
    onSweep: options.onSweep,
    onPublished: options.onPublished,
  });
  const stopPolling = async () => {
    await loop.stop();
    await client.stop();
  };
  const ops = await startOpsServer({
    port: env.OPS_PORT,
    host: env.OPS_HOST,
    log,
    registry,
    // Healthy while sweep markers keep coming: a sweep may take up to SWEEP_TIMEOUT, then waits out the interval.
    checks: {
      sweeping: () => clock.now() - loop.lastMarkerAt <= env.SWEEP_INTERVAL + env.SWEEP_TIMEOUT + 60_000,
      loop: () => loop.crashed === undefined,
    },
  });
  return {
    get sweeps() {
      return loop.sweeps;
    },
    stopPolling,
    close: async () => {
      await stopPolling();
      await producer.disconnect();
      await ops.close();
    },
  };
}
