import { SpareTurns } from "@vod/cdn-budget";
import type { Clock } from "@vod/clock";
import { createDb } from "@vod/db";
import type { Logger } from "@vod/log";
import { createGqlBatchClient } from "@vod/twitch";
import type { FastifyBaseLogger } from "fastify";
import type { ReadPool } from "./db.ts";
import type { ApiEnv } from "./env.ts";
import { removedStreamer } from "./removed.ts";
import type { FindRunDeps } from "./find-run.ts";

/** The page's Find: its limits, and what a CDN search needs (absent `budget`: the archive only). */
export interface FindOptions {
  keepMs: number;
  perClientPerHour: number;
  maxRunning: number;
  /** The fetchers' shared CDN budget in Redis; without it no CDN search runs. */
  budget?: {
    redisUrl: string;
    /** The fetchers' limiter id: `cdn-budget:${CDN_EGRESS}`. */
    id: string;
    perSecond: number;
    slackMsPerSecond: number;
    share: number;
    commandTimeoutMs: number;
  };
  recover: FindRunDeps["recover"];
  checkSegments: number;
  gql: { endpoint: string; clientId: string; timeoutMs: number };
}

/** Defaults for an app built without Find settings (tests of other routes): archive answers only. */
export const ARCHIVE_ONLY: FindOptions = {
  keepMs: 3_600_000,
  perClientPerHour: 10,
  maxRunning: 4,
  recover: {
    domains: [],
    urlTemplate: "https://{domain}/",
    discoverable: /^$/,
    scoreHalfLifeMs: 6 * 3_600_000,
    cdn: {
      concurrency: 1,
      budget: 1,
      windowMs: 60_000,
      connectTimeoutMs: 1_000,
      headersTimeoutMs: 1_000,
      bodyTimeoutMs: 1_000,
      requestTimeoutMs: 1_000,
    },
  },
  checkSegments: 0,
  gql: { endpoint: "http://127.0.0.1:9/gql", clientId: "none", timeoutMs: 1_000 },
};

/**
 * Opens what searches share: the spare turns of the fetchers' budget, a GraphQL client and the archive
 * (drizzle over the API's read-only pool). Null without a budget. A Redis away at start is logged:
 * searches then fail their requests' turns, saying so, until it is back.
 */
export async function openSearch(
  o: FindOptions,
  db: ReadPool,
  clock: Clock,
  log: FastifyBaseLogger | Logger,
): Promise<{ deps: FindRunDeps; close(): Promise<void> } | null> {
  if (!o.budget) return null;
  const spare = new SpareTurns({
    redisUrl: o.budget.redisUrl,
    id: o.budget.id,
    perSecond: o.budget.perSecond,
    slackMsPerSecond: o.budget.slackMsPerSecond,
    share: o.budget.share,
    commandTimeoutMs: o.budget.commandTimeoutMs,
  });
  await spare
    .ready()
    .catch((err: unknown) =>
      log.warn({ err }, "the fetchers' CDN budget (REDIS_URL) did not answer; searches wait for it"),
    );
  const deps: FindRunDeps = {
    recover: o.recover,
    checkSegments: o.checkSegments,
    spare,
    gql: createGqlBatchClient(o.gql),
    db: createDb(db.pool),
    now: () => clock.now(),
    takenDown: async (login) => (await removedStreamer(db, login)) !== null,
  };
  return { deps, close: () => spare.close() };
}

/** The Find settings of the API's environment. */
export function findOptionsFromEnv(env: ApiEnv): FindOptions {
  return {
    keepMs: env.FIND_KEEP,
    perClientPerHour: env.FIND_PER_CLIENT_PER_HOUR,
    maxRunning: env.FIND_MAX_RUNNING,
    ...(env.REDIS_URL
      ? {
          budget: {
            redisUrl: env.REDIS_URL,
            id: `cdn-budget:${env.CDN_EGRESS}`,
            perSecond: env.RATE_PER_SECOND,
            slackMsPerSecond: env.RATE_SLACK,
            share: env.FIND_CDN_SHARE,
            commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT,
          },
        }
      : {}),
    recover: {
      domains: env.CDN_DOMAINS,
      urlTemplate: env.CDN_URL_TEMPLATE,
      discoverable: env.CDN_DISCOVERABLE,
      scoreHalfLifeMs: 6 * 3_600_000,
      cdn: {
        concurrency: env.FIND_CONCURRENCY,
        budget: env.FIND_BUDGET,
        windowMs: env.FIND_WINDOW,
        connectTimeoutMs: env.CONNECT_TIMEOUT,
        headersTimeoutMs: env.HEADERS_TIMEOUT,
        bodyTimeoutMs: env.BODY_TIMEOUT,
        requestTimeoutMs: env.REQUEST_TIMEOUT,
      },
    },
    checkSegments: env.FIND_CHECK_SEGMENTS,
    gql: { endpoint: env.GQL_ENDPOINT, clientId: env.GQL_CLIENT_ID, timeoutMs: env.GQL_TIMEOUT },
  };
}
