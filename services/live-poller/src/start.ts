import { clockFromEnv, type Clock } from "@vod/clock";
import { createCatalog, createKafka, createProducer, createTopics } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { createRegistry, startOpsServer } from "@vod/service";
import { loadCursors } from "./cursors.ts";
import type { PollerEnv } from "./env.ts";
import { startPoller, type PollerDeps } from "./poller.ts";

export interface StartedPoller {
  stopPolling(): Promise<void>;
  close(): Promise<void>;
  /** Sweep markers published so far. */
  readonly sweeps: number;
}

/** What a caller may put in place of the defaults: a GQL client (tests, the bench), what to do when the loop dies. */
export type StartOptions = Pick<PollerDeps, "gql" | "onCrash" | "onPost" | "onPublished" | "onSweep">;

/** Wires the poller: topics, producer, ops server, sweep loop. Shared by main.ts and tests. */
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
  const poller = startPoller(env, { producer, clock, log, registry, saved, ...options });
  const ops = await startOpsServer({
    port: env.OPS_PORT,
    host: env.OPS_HOST,
    log,
    registry,
    // Healthy while sweep markers keep coming: a sweep may take up to SWEEP_TIMEOUT, then waits out the interval.
    checks: {
      sweeping: () => clock.now() - poller.lastMarkerAt <= env.SWEEP_INTERVAL + env.SWEEP_TIMEOUT + 60_000,
      loop: () => poller.crashed === undefined,
    },
  });
  return {
    get sweeps() {
      return poller.sweeps;
    },
    stopPolling: () => poller.stop(),
    close: async () => {
      await poller.stop();
      await producer.disconnect();
      await ops.close();
    },
  };
}
