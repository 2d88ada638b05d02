// What `vods recover`, `vods recover --from` and `vods download` share: which VOD the arguments
// name, the archive connection, and the options `recover()` runs with.
import { createDb, createPool, type Db } from "@vod/db";
import { createGqlBatchClient } from "@vod/twitch";
import {
  InputError,
  parseStartTime,
  parseTarget,
  type RecoverOptions,
  type StartTime,
  type Target,
} from "@vod/recover";
import { UsageError } from "./errors.ts";
import type { RecoverEnv } from "./recover-env.ts";

/** The `parseArgs` options that name a VOD besides its link. */
export const TARGET_OPTIONS = {
  time: { type: "string" },
  tz: { type: "string" },
  login: { type: "string" },
  "stream-id": { type: "string" },
} as const;

export const TIME_HELP =
  "  T: 2026-11-28 14:03, 28-11-2026 14:03, or ISO 8601 (2026-11-28T14:03:27Z); UTC unless --tz (Europe/Berlin, UTC+2); without seconds: the whole minute";

export interface TargetFlags {
  time?: string | undefined;
  tz?: string | undefined;
  login?: string | undefined;
  "stream-id"?: string | undefined;
}

/** Reads the link and flags into a target and start time; bad input is a UsageError showing `usage`. */
export function readTarget(
  input: string | undefined,
  flags: TargetFlags,
  now: number,
  usage: string,
): { target: Target; time: StartTime | undefined } {
  try {
    const target = parseTarget(input, { login: flags.login, streamId: flags["stream-id"] });
    const time = flags.time === undefined ? undefined : parseStartTime(flags.time, flags.tz, now);
    if (flags.tz !== undefined && flags.time === undefined) throw new InputError("--tz was given without --time");
    return { target, time };
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`${err.message}\n${usage}`);
    throw err;
  }
}

/** `--budget`, else the environment's; refused unless a positive integer. */
export function readBudget(raw: string | undefined, env: RecoverEnv, usage: string): number {
  const budget = raw === undefined ? env.RECOVER_BUDGET : Number(raw);
  if (!Number.isInteger(budget) || budget < 1)
    throw new UsageError(`--budget takes a positive number of requests, got "${raw}"\n${usage}`);
  return budget;
}

/** Our archive when it answers; without it the other sources still work. */
export async function openArchive(
  env: RecoverEnv,
  note: (m: string) => void,
  applicationName: string,
): Promise<{ db: Db | undefined; close: () => Promise<void> }> {
  const pool = createPool({
    url: env.DATABASE_URL,
    max: 1,
    applicationName,
    connectionTimeoutMs: env.DB_TIMEOUT,
    statementTimeoutMs: 10_000,
  });
  const close = () => pool.end().catch(() => undefined);
  try {
    await pool.query("select 1");
    return { db: createDb(pool), close };
  } catch (err) {
    note(`our archive is not reachable (${(err as Error).message}); going on without it`);
    return { db: undefined, close };
  }
}

/** The options `recover()` runs with, from the environment. */
export function recoverOptions(
  env: RecoverEnv,
  o: Pick<RecoverOptions, "note" | "now" | "checkSegments"> & { db: Db | undefined; budget: number },
): RecoverOptions {
  const { db, budget, ...rest } = o;
  return {
    domains: env.CDN_DOMAINS,
    urlTemplate: env.CDN_URL_TEMPLATE,
    discoverable: env.CDN_DISCOVERABLE,
    apiUrl: env.API_URL,
    scoreHalfLifeMs: env.DOMAIN_SCORE_HALF_LIFE,
    cdn: {
      concurrency: env.RECOVER_CONCURRENCY,
      budget,
      windowMs: env.RECOVER_WINDOW,
      connectTimeoutMs: env.CONNECT_TIMEOUT,
      headersTimeoutMs: env.HEADERS_TIMEOUT,
      bodyTimeoutMs: env.BODY_TIMEOUT,
      requestTimeoutMs: env.REQUEST_TIMEOUT,
    },
    ...(db ? { db } : {}),
    gql: createGqlBatchClient({ endpoint: env.GQL_ENDPOINT, clientId: env.GQL_CLIENT_ID, timeoutMs: env.GQL_TIMEOUT }),
    ...rest,
  };
}
