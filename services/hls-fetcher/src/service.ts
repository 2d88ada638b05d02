import { setMaxListeners } from "node:events";
import type { Kafka } from "kafkajs";
import pLimit from "p-limit";
import type { Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import type { Db } from "@vod/db";
import { createCatalog, type RunningConsumer, type TypedProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { watchdog } from "@vod/service";
import { ArchiveLookup } from "./archives.ts";
import { BlockDetector } from "./block.ts";
import { openBudget } from "./budget.ts";
import type { FetcherEnv } from "./env.ts";
import { guardedFetch } from "./fetch-one.ts";
import { TakedownList } from "./takedowns.ts";
import { VodFetcher } from "./fetcher.ts";
import { runFollowUps } from "./follow-up-loop.ts";
import { FollowUps } from "./followups.ts";
import { CdnHttp } from "./http.ts";
import { claimInstance } from "./instances.ts";
import { DomainKnowledge } from "./knowledge.ts";
import type { RateLimiter } from "@vod/cdn-budget";
import { fetcherMetrics } from "./metrics.ts";
import {
  archiveOptions,
  blockOptions,
  fetcherOptions,
  followUpOptions,
  httpOptions,
  knowledgeOptions,
} from "./options.ts";
import { consumeRequests } from "./requests-consumer.ts";
import { checkResultCap } from "./result-cap.ts";
import { stateSaver } from "./save-state.ts";

export interface FetcherDeps {
  kafka: Kafka;
  producer: TypedProducer;
  db: Db;
  clock: Clock;
  log: Logger;
  registry?: Registry;
  /** Called once when the consumer has died (kafkajs gave up on it): the process should exit non-zero. */
  onFatal?: (reason: string) => void;
}

export interface RunningFetcher {
  consumer: RunningConsumer;
  limiter: RateLimiter;
  knowledge: DomainKnowledge;
  followUps: FollowUps;
  /** Stops consuming (aborting requests in flight: their batch is redelivered), then closes the pools. */
  stop(): Promise<void>;
}

/**
 * The fetcher: fetch requests consumed a batch at a time, failed VODs retried and VODs given up
 * early searched deeper, all within one CDN budget per egress.
 *
 * The wiring: `claimInstance` (one budget per group), `openBudget` (the limiter), `DomainKnowledge`
 * and `FollowUps` (what is learned and owed, in Postgres), `VodFetcher` (one VOD), `guardedFetch`
 * (its failures kept to it), `consumeRequests` (the consumer), `runFollowUps` (retries and the deep
 * search), `stateSaver` (durable before published), `fetcherMetrics`.
 */
export async function startFetcher(
  env: FetcherEnv,
  { kafka, producer, db, clock, log, registry, onFatal }: FetcherDeps,
): Promise<RunningFetcher> {
  const catalog = createCatalog(env.TOPIC_PREFIX);
  await checkResultCap(kafka, catalog.vodFetchResults.name, env.RESULT_MAX_BYTES);
  // Refused here, before anything is fetched, when it would be a second budget in the group.
  const claim = await claimInstance({
    databaseUrl: env.DATABASE_URL,
    groupId: env.GROUP_ID,
    sharedBudget: env.REDIS_URL !== undefined,
    log,
  });
  const limiter = await openBudget(env, log).catch(async (err: unknown) => {
    await claim.release();
    throw err;
  });
  // onLearned is called only while fetching, after the counters below exist.
  const learned = (domain: string) => counters.discovered?.(domain);
  const knowledge = await DomainKnowledge.load(db, knowledgeOptions(env, clock, learned), log);
  const followUps = await FollowUps.load(db, followUpOptions(env));
  log.info(
    {
      domains: env.CDN_DOMAINS.length,
      discovered: knowledge.discoveredDomains(),
      rate: env.RATE_PER_SECOND,
      budget: limiter.clustered ? `shared in Redis, egress ${env.CDN_EGRESS}` : "this process's own",
      followUps: followUps.size,
    },
    "domain knowledge loaded",
  );
  const http = new CdnHttp(limiter, httpOptions(env));
  const archives = env.GQL_LOOKUP ? new ArchiveLookup(archiveOptions(env, clock), log) : undefined;
  const block = new BlockDetector({
    ...blockOptions(env),
    onBlock: () => {
      limiter.rateLimited();
      log.warn(
        "403s for VODs GQL lists: the CDN is refusing us; slowing down, failing (and retrying) instead of concluding not found",
      );
    },
  });
  const counters = registry ? fetcherMetrics(registry, limiter, followUps, archives) : {};
  const fetcher = new VodFetcher(http, knowledge, clock, fetcherOptions(env, block, archives), log, counters);
  const takedowns = new TakedownList(db, log);
  const fetchOne = guardedFetch({
    fetcher,
    clock,
    log,
    counters,
    maxResultBytes: env.RESULT_MAX_BYTES,
    takenDown: (req) => takedowns.has(req.streamerId, req.login),
  });
  const saveState = stateSaver(db, knowledge, followUps);

  // VODs in flight, all partitions' batches and the retries together: a batch waiting on its slowest
  // search leaves its slots to the others, so the budget never idles behind one long search.
  const slots = pLimit(env.CONCURRENCY);
  const consumer = await consumeRequests({
    env,
    kafka,
    producer,
    catalog,
    log,
    registry,
    clock,
    knowledge,
    followUps,
    slots,
    fetchOne,
    saveState,
    checks: {
      http,
      urlTemplate: env.CDN_URL_TEMPLATE,
      mayUse: (domain) => env.CDN_DOMAINS.includes(domain) || env.CDN_DISCOVERABLE.test(domain),
      now: () => new Date(clock.now()),
    },
  });

  const watch = watchdog({ alive: consumer.healthy, what: "consumer", log, onFatal: onFatal ?? (() => undefined) });
  const stopping = new AbortController();
  setMaxListeners(env.CONCURRENCY * 4 + 10, stopping.signal);
  const followUpLoop = runFollowUps({
    env,
    db,
    fetcher,
    fetchOne,
    knowledge,
    followUps,
    limiter,
    slots,
    clock,
    log,
    stopping: stopping.signal,
    saveState,
    publish: (r) => producer.send(catalog.vodFetchResults, r),
  });

  let stopped: Promise<void> | undefined;
  return {
    consumer,
    limiter,
    knowledge,
    followUps,
    stop: () =>
      (stopped ??= (async () => {
        watch.stop();
        stopping.abort(new Error("shutdown"));
        await consumer.stop();
        await followUpLoop;
        await limiter.stop();
        await archives?.stop();
        await http.close();
        await knowledge
          .flush(db)
          .catch((err: unknown) => log.warn({ err }, "saving domain knowledge on shutdown failed"));
        await followUps.flush(db).catch((err: unknown) => log.warn({ err }, "saving follow-ups on shutdown failed"));
        await claim.release();
      })()),
  };
}
