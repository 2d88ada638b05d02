import { setMaxListeners } from "node:events";
import type { Kafka } from "kafkajs";
import type { LimitFunction } from "p-limit";
import type { Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import { runConsumer, subscribe, type Catalog, type RunningConsumer, type TypedProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { consumerMetrics } from "@vod/service";
import type { FetcherEnv } from "./env.ts";
import type { FetchOne } from "./fetch-one.ts";
import type { FollowUps } from "./followups.ts";
import { checkSubscription, type CheckDeps } from "./checks.ts";
import { HeldResults } from "./held-results.ts";
import type { DomainKnowledge } from "./knowledge.ts";
import type { SaveState } from "./save-state.ts";
import { inSlots } from "./slots.ts";

/** A fetched batch is retried within seconds when its publish fails; one not retried by then never will be here. */
const HELD_RESULTS_MAX_AGE_MS = 10 * 60_000;

export interface RequestsConsumerDeps {
  env: FetcherEnv;
  kafka: Kafka;
  producer: TypedProducer;
  catalog: Catalog;
  log: Logger;
  registry: Registry | undefined;
  clock: Clock;
  knowledge: DomainKnowledge;
  followUps: FollowUps;
  /** VODs in flight, shared with the follow-ups. */
  slots: LimitFunction;
  fetchOne: FetchOne;
  saveState: SaveState;
  /** Playable checks of archived VODs, asked by the API. */
  checks: CheckDeps;
}

/**
 * The fetch requests, a batch at a time: each VOD fetched in one of the shared slots, what the
 * outcomes owe and what was learned saved, then the outcomes published together.
 */
export async function consumeRequests(d: RequestsConsumerDeps): Promise<RunningConsumer> {
  const { env, producer, catalog, clock, knowledge, followUps } = d;
  // Outcomes of a batch already fetched, so a retry after a failed publish does not fetch again; a
  // batch that never comes back (its partition moved) leaves them for at most HELD_RESULTS_MAX_AGE.
  const done = new HeldResults(HELD_RESULTS_MAX_AGE_MS);
  return runConsumer({
    kafka: d.kafka,
    producer,
    log: d.log,
    groupId: env.GROUP_ID,
    maxBatchSize: env.BATCH_MAX_MESSAGES,
    partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENTLY,
    ...(d.registry ? { onBatch: consumerMetrics(d.registry) } : {}),
    subscriptions: [
      subscribe(catalog.vodFetchRequests, {
        eachBatch: async (messages, ctx) => {
          // Every fetch of the batch listens on its signal (GQL wait, CDN request, backoff).
          setMaxListeners(env.CONCURRENCY * 4 + 10, ctx.signal);
          await knowledge.warm(messages.map((m) => m.value.streamerId));
          done.batchStarts(messages[0]!.topic, messages[0]!.partition, messages[0]!.offset);
          const results = await inSlots(d.slots, messages, async (m) => {
            const known = done.get(m.topic, m.partition, m.offset);
            if (known) return known;
            const { report, retry } = await d.fetchOne(m.value, ctx.signal);
            followUps.apply(m.value, report, clock.now(), retry);
            done.set(m.topic, m.partition, m.offset, report.result);
            return report.result;
          });
          await d.saveState(
            ctx.log,
            messages.map((m) => m.value),
          );
          await producer.send(catalog.vodFetchResults, results);
          for (const m of messages) done.delete(m.topic, m.partition, m.offset);
          const counts = results.reduce<Record<string, number>>(
            (acc, r) => ({ ...acc, [r.outcome]: (acc[r.outcome] ?? 0) + 1 }),
            {},
          );
          ctx.log.info(
            { vods: results.length, ...counts, requests: results.reduce((s, r) => s + r.requests, 0) },
            "fetch batch published",
          );
        },
      }),
      checkSubscription(catalog, producer, d.checks),
    ],
  });
}
