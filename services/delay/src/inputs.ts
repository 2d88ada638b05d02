import type { Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import {
  runConsumer,
  subscribe,
  type Catalog,
  type Message,
  type RunningConsumer,
  type TypedProducer,
} from "@vod/kafka";
import type { Logger } from "@vod/log";
import { consumerMetrics } from "@vod/service";
import type { DelayEnv } from "./env.ts";
import { Revoked } from "./owned.ts";
import type { Partitions } from "./partitions.ts";
import type { StateWriter } from "./state-writer.ts";
import type { Tracker } from "./tracker.ts";

export interface InputsDeps {
  env: Pick<DelayEnv, "GROUP_ID" | "BATCH_MAX_MESSAGES" | "BATCH_MAX_WAIT" | "SESSION_TIMEOUT">;
  kafka: Kafka;
  producer: TypedProducer;
  clock: Clock;
  log: Logger;
  registry: Registry;
  catalog: Catalog;
  partitions: Partitions;
  writer: StateWriter;
  locked: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * The group's consumer of the delay's inputs (snapshots, sweep markers, `live` fetch results), one
 * co-partitioned assignment for all three. Each batch goes to its partition's tracker, and the
 * changes it made are written to the state topic before its offsets are committed.
 */
export function consumeInputs(deps: InputsDeps): Promise<RunningConsumer> {
  const { env, clock, catalog, partitions, writer, locked } = deps;

  /** Handles one partition's batch with its tracker, and flushes before the offsets are committed. */
  function handle<T>(apply: (tracker: Tracker, messages: Message<T>[]) => void) {
    return async (messages: Message<T>[]) => {
      const partition = messages[0]!.partition;
      const o = await partitions.ownedFor(partition);
      await locked(async () => {
        if (!partitions.isOwned(o)) throw new Revoked(partition);
        apply(o.tracker, messages);
        await writer.flush(o);
      });
    };
  }

  return runConsumer({
    kafka: deps.kafka,
    producer: deps.producer,
    log: deps.log,
    groupId: env.GROUP_ID,
    maxBatchSize: env.BATCH_MAX_MESSAGES,
    maxWaitMs: env.BATCH_MAX_WAIT,
    sessionTimeoutMs: env.SESSION_TIMEOUT,
    heartbeatIntervalMs: Math.max(500, Math.floor(env.SESSION_TIMEOUT / 5)),
    onBatch: consumerMetrics(deps.registry),
    copartitioned: true,
    onAssign: (assignment) => partitions.onAssign(assignment),
    onRevoke: (reason) => partitions.onRevoke(reason),
    subscriptions: [
      subscribe(catalog.streamSnapshots, {
        eachBatch: handle((tracker, messages) => {
          for (const m of messages) tracker.applySnapshot(m.value);
          tracker.evaluate(false);
        }),
      }),
      subscribe(catalog.sweeps, {
        eachBatch: handle((tracker, messages) => {
          for (const m of messages) tracker.addMarker(m.value, clock.now());
          tracker.evaluate(false);
        }),
      }),
      // `live` outcomes: the stream had not ended when it was fetched; tracked again until its real end.
      subscribe(catalog.vodFetchResults, {
        eachBatch: handle((tracker, messages) => {
          for (const m of messages) tracker.applyResult(m.value);
        }),
      }),
    ],
  });
}
