import type { Kafka } from "kafkajs";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import type { Db } from "@vod/db";
import { createCatalog, runConsumer, subscribe, type RunningConsumer, type TypedProducer, type VodFetchResult } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { consumerMetrics } from "@vod/service";
import type { FetcherEnv } from "./env.ts";
import { VodFetcher, type FetchCounters } from "./fetcher.ts";
import { CdnHttp } from "./http.ts";
import { DomainKnowledge } from "./knowledge.ts";
import { RateLimiter } from "./limiter.ts";
import { VisibilityLookup } from "./visibility.ts";

export interface FetcherDeps {
  kafka: Kafka;
  producer: TypedProducer;
  db: Db;
  clock: Clock;
  log: Logger;
  registry?: Registry;
}

export interface RunningFetcher {
  consumer: RunningConsumer;
  limiter: RateLimiter;
  knowledge: DomainKnowledge;
  /** Stops consuming (aborting requests in flight: their batch is redelivered), then closes the pools. */
  stop(): Promise<void>;
}

export async function startFetcher(env: FetcherEnv, { kafka, producer, db, clock, log, registry }: FetcherDeps): Promise<RunningFetcher> {
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const knowledge = await DomainKnowledge.load(db, {
    halfLifeMs: env.DOMAIN_SCORE_HALF_LIFE,
    failureThreshold: env.DOMAIN_FAILURE_THRESHOLD,
    cooldownMs: env.DOMAIN_COOLDOWN,
  });
  log.info({ streamersKnown: knowledge.streamersKnown, domains: env.CDN_DOMAINS.length, rate: env.RATE_PER_SECOND }, "domain knowledge loaded");
  const limiter = new RateLimiter({ perSecond: env.RATE_PER_SECOND, floorPerSecond: env.RATE_FLOOR_PER_SECOND });
  const http = new CdnHttp(limiter, {
    connectTimeoutMs: env.CONNECT_TIMEOUT,
    headersTimeoutMs: env.HEADERS_TIMEOUT,
    bodyTimeoutMs: env.BODY_TIMEOUT,
    requestTimeoutMs: env.REQUEST_TIMEOUT,
  });
  const visibility = env.VISIBILITY_LOOKUP
    ? new VisibilityLookup(
        { endpoint: env.GQL_ENDPOINT, clientId: env.GQL_CLIENT_ID, perSecond: env.GQL_RATE, timeoutMs: env.GQL_TIMEOUT, maxQueued: env.CONCURRENCY },
        log,
      )
    : undefined;
  const fetcher = new VodFetcher(
    http,
    knowledge,
    clock,
    {
      domains: env.CDN_DOMAINS,
      urlTemplate: env.CDN_URL_TEMPLATE,
      retries: env.REQUEST_RETRIES,
      backoffMs: env.RETRY_BACKOFF,
      ...(visibility ? { visibility } : {}),
    },
    log,
    registry ? metrics(registry, limiter) : {},
  );

  // Outcomes of a batch already fetched, so a retry after a failed publish does not fetch again.
  const done = new Map<string, VodFetchResult>();
  const consumer = await runConsumer({
    kafka,
    producer,
    log,
    groupId: env.GROUP_ID,
    maxBatchSize: env.BATCH_MAX_MESSAGES,
    ...(registry ? { onBatch: consumerMetrics(registry) } : {}),
    subscriptions: [
      subscribe(catalog.vodFetchRequests, {
        eachBatch: async (messages, ctx) => {
          const results = await mapConcurrently(messages, env.CONCURRENCY, async (m) => {
            const key = `${m.topic}:${m.partition}:${m.offset}`;
            const known = done.get(key);
            if (known) return known;
            const result = await fetcher.fetch(m.value, ctx.signal);
            done.set(key, result);
            return result;
          });
          // Knowledge saves requests, never VODs: a failed save is retried with the next batch.
          await knowledge.flush(db).catch((err: unknown) => ctx.log.warn({ err }, "saving domain knowledge failed; kept for the next batch"));
          await producer.send(catalog.vodFetchResults, results);
          for (const m of messages) done.delete(`${m.topic}:${m.partition}:${m.offset}`);
          const counts = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.outcome]: (acc[r.outcome] ?? 0) + 1 }), {});
          ctx.log.info({ vods: results.length, ...counts, requests: results.reduce((s, r) => s + r.requests, 0) }, "fetch batch published");
        },
      }),
    ],
  });

  let stopped: Promise<void> | undefined;
  return {
    consumer,
    limiter,
    knowledge,
    stop: () =>
      (stopped ??= (async () => {
        await consumer.stop();
        await limiter.stop();
        await visibility?.stop();
        await http.close();
        await knowledge.flush(db).catch((err: unknown) => log.warn({ err }, "saving domain knowledge on shutdown failed"));
      })()),
  };
}

async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  // After one failure no worker starts another item: the batch is retried whole, and orphans would fetch twice.
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function metrics(registry: Registry, limiter: RateLimiter): FetchCounters {
  const requests = new Counter({
    name: "fetcher_http_requests_total",
    help: "CDN requests by domain, HTTP status (none: timeout or reset) and answer kind",
    labelNames: ["domain", "status", "answer"],
    registers: [registry],
  });
  const vods = new Counter({ name: "fetcher_vods_total", help: "VOD outcomes", labelNames: ["outcome"], registers: [registry] });
  const perVod = new Histogram({ name: "fetcher_requests_per_vod", help: "HTTP requests one VOD cost, by outcome", labelNames: ["outcome"], buckets: [1, 2, 3, 5, 10, 20, 45], registers: [registry] });
  new Gauge({ name: "fetcher_limiter_min_time_ms", help: "Current spacing between CDN requests", registers: [registry], collect() { this.set(limiter.minTimeMs); } });
  return {
    request: (domain, answer) => requests.inc({ domain, status: String(answer.status ?? "none"), answer: answer.kind }),
    outcome: (outcome, n) => {
      vods.inc({ outcome });
      perVod.observe({ outcome }, n);
    },
  };
}
