import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { duration, list, parseEnv } from "@vod/config";
import { createDb, createPool, type Db } from "@vod/db";
import { createGqlBatchClient, LIVE_VOD_DOMAINS, TWITCH_GQL_ENDPOINT, TWITCH_WEB_CLIENT_ID } from "@vod/twitch";
import {
  InputError,
  NotFound,
  parseStartTime,
  parseTarget,
  recover,
  type Recovered,
  type RecoverOptions,
} from "@vod/recover";
import { CommandError, UsageError } from "./errors.ts";

export const USAGE =
  "usage: vods recover <tracker or Twitch URL> [--time T] [--tz ZONE] [--login L --stream-id N] [--json] [--check-segments N|all] [--out FILE] [--budget N]\n" +
  "  T: 2026-11-28 14:03, 28-11-2026 14:03, or ISO 8601 (2026-11-28T14:03:27Z); UTC unless --tz (Europe/Berlin, UTC+2); without seconds: the whole minute";

const regex = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      try {
        return new RegExp(raw);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `not a regular expression: ${(err as Error).message}` });
        return z.NEVER;
      }
    });

/** `vods recover` reads these; the CDN and GQL settings mean what they mean for the hls-fetcher. */
export const recoverEnvSchema = z.object({
  DATABASE_URL: z.string().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  CDN_DOMAINS: list(LIVE_VOD_DOMAINS),
  CDN_URL_TEMPLATE: z.string().includes("{domain}").default("https://{domain}/"),
  CDN_DISCOVERABLE: regex(String.raw`^(d[a-z0-9]{8,20}\.cloudfront\.net|vod-[a-z0-9-]+\.twitch\.tv)$`),
  GQL_ENDPOINT: z.string().url().default(TWITCH_GQL_ENDPOINT),
  GQL_CLIENT_ID: z.string().min(1).default(TWITCH_WEB_CLIENT_ID),
  GQL_TIMEOUT: duration("5s"),
  /** Where the API serves archived playlists (`/m3u8/{streamId}/{unix}/index.m3u8`). */
  API_URL: z.string().url().default("http://127.0.0.1:8080"),
  /** At most this many CDN requests per window per run: a quarter of CloudFront's default rate rule (2,000 per 5 minutes). */
  RECOVER_BUDGET: z.coerce.number().int().min(1).default(500),
  RECOVER_WINDOW: duration("5m"),
  RECOVER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  CONNECT_TIMEOUT: duration("3s"),
  HEADERS_TIMEOUT: duration("5s"),
  BODY_TIMEOUT: duration("10s"),
  REQUEST_TIMEOUT: duration("15s"),
  DB_TIMEOUT: duration("3s"),
  DOMAIN_SCORE_HALF_LIFE: duration("6h"),
});
export type RecoverEnv = z.infer<typeof recoverEnvSchema>;
export const loadRecoverEnv = (): RecoverEnv => parseEnv(recoverEnvSchema);

export interface RecoverCommandIo {
  /** Progress for the person waiting (stderr). */
  note: (message: string) => void;
  now?: () => number;
}

/** Runs `vods recover`; resolves to what stdout shows. A VOD not found is a CommandError whose message says what was tried. */
export async function recoverCommand(argv: string[], env: RecoverEnv, io: RecoverCommandIo): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        time: { type: "string" },
        tz: { type: "string" },
        login: { type: "string" },
        "stream-id": { type: "string" },
        json: { type: "boolean" },
        "check-segments": { type: "string" },
        out: { type: "string" },
        budget: { type: "string" },
      },
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`one VOD at a time; got ${positionals.length} inputs\n${USAGE}`);
  const check = values["check-segments"];
  if (check !== undefined && check !== "all" && !/^[1-9]\d*$/.test(check))
    throw new UsageError(`--check-segments takes a count or "all", got "${check}"\n${USAGE}`);
  const budget = values.budget === undefined ? env.RECOVER_BUDGET : Number(values.budget);
  if (!Number.isInteger(budget) || budget < 1)
    throw new UsageError(`--budget takes a positive number of requests, got "${values.budget}"\n${USAGE}`);
  const now = io.now ?? Date.now;

  let target, time;
  try {
    target = parseTarget(positionals[0], { login: values.login, streamId: values["stream-id"] });
    time = values.time === undefined ? undefined : parseStartTime(values.time, values.tz, now());
    if (values.tz !== undefined && values.time === undefined) throw new InputError("--tz was given without --time");
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`${err.message}\n${USAGE}`);
    throw err;
  }

  const pool = createPool({
    url: env.DATABASE_URL,
    max: 1,
    applicationName: "vods-recover",
    connectionTimeoutMs: env.DB_TIMEOUT,
    statementTimeoutMs: 10_000,
  });
  let db: Db | undefined = createDb(pool);
  try {
    await pool.query("select 1");
  } catch (err) {
    io.note(`our archive is not reachable (${(err as Error).message}); going on without it`);
    db = undefined;
  }
  const options: RecoverOptions = {
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
    ...(check !== undefined ? { checkSegments: check === "all" ? ("all" as const) : Number(check) } : {}),
    note: io.note,
    now,
  };
  let result: Recovered;
  try {
    result = await recover(target, time, options);
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`${err.message}\n${USAGE}`);
    if (err instanceof NotFound) {
      if (values.json) {
        const answer = {
          found: false,
          error: err.message,
          sources: err.tried.sources,
          requests: err.tried.requests,
          seconds: err.tried.seconds,
        };
        throw new CommandError(err.message, 1, JSON.stringify(answer));
      }
      throw new CommandError(err.message, 1);
    }
    throw err;
  } finally {
    await pool.end().catch(() => undefined);
  }

  if (values.out !== undefined)
    await writeFile(values.out, result.playlist.endsWith("\n") ? result.playlist : `${result.playlist}\n`);
  if (values.json) {
    return JSON.stringify({
      found: true,
      source: result.source,
      login: result.login,
      streamId: result.streamId,
      startTime: result.startTime,
      url: result.url,
      cdnUrl: result.cdnUrl,
      live: result.live,
      requests: result.requests,
      seconds: result.seconds,
      segments: result.segments,
      checkedSegments: result.checkedSegments,
      deadSegments: result.deadSegments,
      out: values.out ?? null,
    });
  }
  return formatRecovered(result, values.out);
}

const SOURCE_TEXT = {
  archive: "in our archive",
  seen: "on the CDN (we saw it live)",
  listing: "through the streamer's GraphQL listing",
  cdn: "on the CDN",
} as const;

export function formatRecovered(r: Recovered, out: string | undefined): string {
  const lines = [
    `found ${r.login} stream ${r.streamId} (started ${r.startTime}) ${SOURCE_TEXT[r.source]}: ${r.requests} CDN request${r.requests === 1 ? "" : "s"}, ${r.seconds.toFixed(2)} s`,
    r.url,
  ];
  if (r.source === "archive" && r.cdnUrl) lines.push(`(on the CDN: ${r.cdnUrl})`);
  if (r.live) lines.push("the stream is still live: the playlist will grow, and muted parts are not renamed yet");
  lines.push(`${r.segments} segments${out ? `; playable playlist written to ${out}` : ""}`);
  if (r.deadSegments) {
    lines.push(
      r.deadSegments.length === 0
        ? `${r.checkedSegments} segments checked, all alive`
        : `${r.deadSegments.length} of ${r.checkedSegments} segments checked are dead (commented out${out ? ` in ${out}` : ""}): ` +
            r.deadSegments
              .slice(0, 5)
              .map((d) => `${d.uri.split("/").pop()} (${d.status})`)
              .join(", ") +
            (r.deadSegments.length > 5 ? ", …" : ""),
    );
  }
  return lines.join("\n");
}
