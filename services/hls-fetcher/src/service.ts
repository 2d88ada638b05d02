import { setMaxListeners } from "node:events";
import kafkajs, { type Kafka } from "kafkajs";
import pLimit, { type LimitFunction } from "p-limit";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Clock } from "@vod/clock";
import type { Db } from "@vod/db";
import { sleep } from "@vod/backoff";
import {
  createCatalog,
  runConsumer,
  subscribe,
  type RunningConsumer,
  type TypedProducer,
  type VodFetchRequest,
  type VodFetchResult,
} from "@vod/kafka";
import type { Logger } from "@vod/log";
import { consumerMetrics, watchdog } from "@vod/service";
import { playlistCaps, type FetcherEnv } from "./env.ts";
import { VodFetcher, type FetchCounters, type FetchReport } from "./fetcher.ts";
import { CdnHttp } from "./http.ts";
import { DomainKnowledge } from "./knowledge.ts";
import { RateLimiter } from "./limiter.ts";
import { ArchiveLookup } from "./archives.ts";
import { BlockDetector } from "./block.ts";
import { FollowUps } from "./followups.ts";
import { claimInstance } from "./instances.ts";
import { inSlots } from "./slots.ts";
import { failedResult, reasonOf, resultProblem } from "./poison.ts";
import { HeldResults } from "./held-results.ts";

/** A fetched batch is retried within seconds when its publish fails; one not retried by then never will be here. */
const HELD_RESULTS_MAX_AGE_MS = 10 * 60_000;

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
  const limiter = new RateLimiter({
    perSecond: env.RATE_PER_SECOND,
    floorPerSecond: env.RATE_FLOOR_PER_SECOND,
    slackMsPerSecond: env.RATE_SLACK,
    ...(env.REDIS_URL
      ? {
          cluster: {
            redisUrl: env.REDIS_URL,
            id: `cdn-budget:${env.CDN_EGRESS}`,
            commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT,
          },
        }
      : {}),
  });
  limiter.onError((err) =>
    log.warn({ err }, "the shared CDN budget's Redis failed; requests wait or fail until it is back"),
  );
  try {
    await limiter.ready();
  } catch (err) {
    await limiter.stop().catch(() => undefined);
    await claim.release();
    throw new Error(`REDIS_URL: ${(err as Error).message}`);
  }
  const knowledge = await DomainKnowledge.load(
    db,
    {
      halfLifeMs: env.DOMAIN_SCORE_HALF_LIFE,
      failureThreshold: env.DOMAIN_FAILURE_THRESHOLD,
      cooldownMs: env.DOMAIN_COOLDOWN,
      streamerCacheSize: env.STREAMER_CACHE_SIZE,
      streamerCacheTtlMs: env.STREAMER_CACHE_TTL,
      discoverable: env.CDN_DISCOVERABLE,
      deadDomains: env.CDN_DEAD_DOMAINS,
      learnedTtlMs: env.DOMAIN_LEARNED_TTL,
      now: () => clock.now(),
      // Called only while fetching, after the counters below exist.
      onLearned: (domain) => counters.discovered?.(domain),
    },
    log,
  );
  const followUps = await FollowUps.load(db, {
    retryInitialMs: env.RETRY_INITIAL,
    retryMaxMs: env.RETRY_MAX,
    retryForMs: env.RETRY_FOR,
    deepForMs: env.DEEP_SEARCH_FOR,
    deepStopProbability: env.DEEP_STOP_PROBABILITY,
    deepStopProbabilityStreamer: env.DEEP_STOP_PROBABILITY_STREAMER,
  });
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
  const http = new CdnHttp(limiter, {
    connectTimeoutMs: env.CONNECT_TIMEOUT,
    headersTimeoutMs: env.HEADERS_TIMEOUT,
    bodyTimeoutMs: env.BODY_TIMEOUT,
    requestTimeoutMs: env.REQUEST_TIMEOUT,
  });
  const archives = env.GQL_LOOKUP
    ? new ArchiveLookup(
        {
          endpoint: env.GQL_ENDPOINT,
          clientId: env.GQL_CLIENT_ID,
          perSecond: env.GQL_RATE,
          timeoutMs: env.GQL_TIMEOUT,
          maxBodyBytes: env.GQL_MAX_BODY_BYTES,
          batchSize: env.GQL_BATCH,
          batchWaitMs: env.GQL_BATCH_WAIT,
          cacheMs: 30_000,
          now: () => clock.now(),
        },
        log,
      )
    : undefined;
  const block = new BlockDetector({
    threshold: env.BLOCK_403_THRESHOLD,
    windowMs: env.BLOCK_WINDOW,
    holdMs: env.BLOCK_HOLD,
    onBlock: () => {
      limiter.rateLimited();
      log.warn(
        "403s for VODs GQL lists: the CDN is refusing us; slowing down, failing (and retrying) instead of concluding not found",
      );
    },
  });
  const counters = registry ? metrics(registry, limiter, followUps, archives) : {};

  /**
   * One VOD's fetch, whatever goes wrong with it: an error, or a result that cannot be published (its
   * schema, its size), gives this VOD `failed` with the reason and the rest of the batch goes on.
   * `retry` is false when fetching again would give the same result.
   */
  async function fetchOne(req: VodFetchRequest, signal: AbortSignal): Promise<{ report: FetchReport; retry: boolean }> {
    let report: FetchReport;
    try {
      report = await fetcher.run(req, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const reason = reasonOf(err);
      log.warn(
        { streamId: req.streamId, login: req.login, reason },
        "handling a VOD failed; its outcome is failed, the batch goes on",
      );
      counters.outcome?.("failed", 0);
      return { report: { result: failedResult(req, reason, clock.now()) }, retry: true };
    }
    const problem = resultProblem(report.result, env.RESULT_MAX_BYTES);
    if (problem === null) return { report, retry: true };
    log.warn(
      { streamId: req.streamId, login: req.login, reason: problem },
      "a VOD's result cannot be published; its outcome is failed, the batch goes on",
    );
    counters.outcome?.("failed", report.result.requests);
    return { report: { result: failedResult(req, problem, clock.now(), report.result.requests) }, retry: false };
  }
  const fetcher = new VodFetcher(
    http,
    knowledge,
    clock,
    {
      domains: env.CDN_DOMAINS,
      urlTemplate: env.CDN_URL_TEMPLATE,
      retries: env.REQUEST_RETRIES,
      backoffMs: env.RETRY_BACKOFF,
      stopProbability: env.STOP_PROBABILITY,
      liveResultLimit: env.LIVE_RESULT_LIMIT,
      playlist: playlistCaps(env),
      discoverable: env.CDN_DISCOVERABLE,
      block,
      ...(archives ? { archives } : {}),
    },
    log,
    counters,
  );

  /**
   * What is owed after these outcomes, and what was learned, made durable before the outcomes are
   * published. While Postgres is away, outcomes that owe nothing (found, not found for good) are
   * published all the same; only those that need a follow-up row wait for it.
   */
  async function saveState(ctxLog: Logger, requests: readonly VodFetchRequest[] = []): Promise<void> {
    // Knowledge saves requests, never VODs: a failed save is retried with the next batch.
    await knowledge
      .flush(db)
      .catch((err: unknown) => ctxLog.warn({ err }, "saving domain knowledge failed; kept for the next batch"));
    try {
      await followUps.flush(db);
    } catch (err) {
      if (requests.length === 0 || followUps.owesWrite(requests)) throw err;
      ctxLog.warn(
        { err },
        "saving follow-ups failed; these outcomes owe none, so they are published and the rest is kept for the next flush",
      );
    }
  }

  // Outcomes of a batch already fetched, so a retry after a failed publish does not fetch again; a
  // batch that never comes back (its partition moved) leaves them for at most HELD_RESULTS_MAX_AGE.
  const done = new HeldResults(HELD_RESULTS_MAX_AGE_MS);
  // VODs in flight, all partitions' batches and the retries together: a batch waiting on its slowest
  // search leaves its slots to the others, so the budget never idles behind one long search.
  const slots = pLimit(env.CONCURRENCY);
  const consumer = await runConsumer({
    kafka,
    producer,
    log,
    groupId: env.GROUP_ID,
    maxBatchSize: env.BATCH_MAX_MESSAGES,
    partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENTLY,
    ...(registry ? { onBatch: consumerMetrics(registry) } : {}),
    subscriptions: [
      subscribe(catalog.vodFetchRequests, {
        eachBatch: async (messages, ctx) => {
          // Every fetch of the batch listens on its signal (GQL wait, CDN request, backoff).
          setMaxListeners(env.CONCURRENCY * 4 + 10, ctx.signal);
          await knowledge.warm(messages.map((m) => m.value.streamerId));
          done.batchStarts(messages[0]!.topic, messages[0]!.partition, messages[0]!.offset);
          const results = await inSlots(slots, messages, async (m) => {
            const known = done.get(m.topic, m.partition, m.offset);
            if (known) return known;
            const { report, retry } = await fetchOne(m.value, ctx.signal);
            followUps.apply(m.value, report, clock.now(), retry);
            done.set(m.topic, m.partition, m.offset, report.result);
            return report.result;
          });
          await saveState(
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
    ],
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

interface FollowUpLoopDeps {
  env: FetcherEnv;
  db: Db;
  fetcher: VodFetcher;
  fetchOne(req: VodFetchRequest, signal: AbortSignal): Promise<{ report: FetchReport; retry: boolean }>;
  knowledge: DomainKnowledge;
  followUps: FollowUps;
  limiter: RateLimiter;
  slots: LimitFunction;
  clock: Clock;
  log: Logger;
  stopping: AbortSignal;
  saveState(log: Logger): Promise<void>;
  publish(results: VodFetchResult[]): Promise<void>;
}

/** Below every request of the main lane: the deep search spends only what it leaves. */
const DEEP_PRIORITY = 9;
/** Deep requests between two looks at due retries. */
const DEEP_PER_ROUND = 20;

/**
 * Retries of failed VODs when due, and the deep search while the limiter has nothing queued.
 * Outcomes are published before the follow-up rows they settle are deleted: a crash in between
 * repeats a request, never loses an outcome.
 */
async function runFollowUps(d: FollowUpLoopDeps): Promise<void> {
  const { env, fetcher, knowledge, followUps, limiter, clock, log, stopping } = d;
  while (!stopping.aborted) {
    try {
      const claim = await followUps.claimLoaded(d.db).catch((err: unknown) => {
        log.warn({ err }, "claiming follow-ups failed; those loaded at start wait for PostgreSQL");
        return { claimed: 0, lost: 0 };
      });
      if (claim.claimed + claim.lost > 0)
        log.info(claim, "follow-ups loaded at start claimed (lost: another fetcher of the group has them)");
      const retries = followUps.dueRetries(clock.now(), env.CONCURRENCY);
      if (retries.length > 0) {
        await knowledge.warm(retries.map((r) => r.streamerId));
        const outcomes = await inSlots(d.slots, retries, (r) => d.fetchOne(r, stopping));
        const reports = outcomes.map((o) => o.report);
        await d.publish(reports.map((r) => r.result));
        outcomes.forEach((o, i) => followUps.apply(retries[i]!, o.report, clock.now(), o.retry));
        await d.saveState(log);
        log.info({ vods: reports.length, outcomes: reports.map((r) => r.result.outcome) }, "failed VODs retried");
      }
      // One deep request at a time, and only when no request of the main lane waits for its turn.
      const failing = new Set<string>();
      await knowledge.warm(followUps.deepStreamers());
      for (let n = 0; n < DEEP_PER_ROUND && !stopping.aborted && limiter.queued() === 0; n++) {
        const pick = followUps.nextDeep(clock.now(), (r) => fetcher.candidates(r), failing);
        if (!pick) break;
        const { result, missed } = await fetcher.probe(pick.request, pick.candidate, stopping, DEEP_PRIORITY);
        if (result) {
          await d.publish([{ ...result, partial: false }]);
          followUps.settle(pick.key);
          log.info(
            { streamId: result.streamId, login: result.login, outcome: result.outcome },
            "deep search found a VOD given up early",
          );
        } else if (missed) {
          followUps.deepMissed(pick.key, pick.candidate);
        } else {
          failing.add(pick.candidate.domain); // the domain failed or is cut off: its candidates wait, the others go on
        }
      }
      await d.saveState(log);
    } catch (err) {
      if (stopping.aborted) break;
      log.error({ err }, "follow-up round failed; trying again");
    }
    await sleep(d.env.FOLLOWUP_POLL, stopping);
  }
}

// kafkajs is CommonJS; Node's ESM loader finds not every named export of it (ConfigResourceTypes), the default has them all.
/** RESULT_MAX_BYTES must leave room under the results topic's max.message.bytes (record framing, key, headers). */
async function checkResultCap(kafka: Kafka, topic: string, cap: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let limit: number | undefined;
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }],
    });
    const value = resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue;
    limit = value === undefined ? undefined : Number(value);
  } catch {
    // A topic that is not there yet fails the consumer with its own error; nothing to compare with.
  } finally {
    await admin.disconnect();
  }
  if (limit !== undefined && cap > limit - 1_024) {
    throw new Error(
      `RESULT_MAX_BYTES: ${cap} leaves no room under ${topic}'s max.message.bytes (${limit}); set it at most ${limit - 1_024}`,
    );
  }
}

function metrics(
  registry: Registry,
  limiter: RateLimiter,
  followUps: FollowUps,
  archives: ArchiveLookup | undefined,
): FetchCounters {
  const requests = new Counter({
    name: "fetcher_http_requests_total",
    help: "CDN requests by domain, HTTP status (none: timeout or reset) and answer kind",
    labelNames: ["domain", "status", "answer"],
    registers: [registry],
  });
  const vods = new Counter({
    name: "fetcher_vods_total",
    help: "VOD outcomes",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const perVod = new Histogram({
    name: "fetcher_requests_per_vod",
    help: "HTTP requests one VOD cost, by outcome",
    labelNames: ["outcome"],
    buckets: [1, 2, 3, 5, 10, 20, 45],
    registers: [registry],
  });
  new Gauge({
    name: "fetcher_limiter_min_time_ms",
    help: "Current spacing between CDN requests",
    registers: [registry],
    collect() {
      this.set(limiter.minTimeMs);
    },
  });
  new Gauge({
    name: "fetcher_followups",
    help: "VODs owed a retry (failed) or a deep search (given up early)",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.set({ kind: "retry" }, followUps.count("retry"));
      this.set({ kind: "deep" }, followUps.count("deep"));
    },
  });
  new Gauge({
    name: "fetcher_gql_posts",
    help: "GQL POSTs for archive listings since start",
    registers: [registry],
    collect() {
      this.set(archives?.posts ?? 0);
    },
  });
  new Gauge({
    name: "fetcher_gql_lookup_failures",
    help: "Archive listings GQL did not give (failure, timeout) since start",
    registers: [registry],
    collect() {
      this.set(archives?.failures ?? 0);
    },
  });
  const discovered = new Counter({
    name: "fetcher_domains_discovered_total",
    help: "CDN domains learned: named by GQL's seekPreviewsURL, then served a playlist",
    registers: [registry],
  });
  return {
    discovered: () => discovered.inc(),
    request: (domain, answer) => requests.inc({ domain, status: String(answer.status ?? "none"), answer: answer.kind }),
    outcome: (outcome, n) => {
      vods.inc({ outcome });
      perVod.observe({ outcome }, n);
    },
  };
}
