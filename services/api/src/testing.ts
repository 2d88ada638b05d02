import { gzipSync } from "node:zlib";
import type pg from "pg";
import { Registry } from "prom-client";
import { systemClock, type Clock } from "@vod/clock";
import { buildApp, type AppOptions } from "./app.ts";
import { createReadPool, type ReadPool } from "./db.ts";

export interface TestVod {
  streamId: number;
  startTime: string;
  streamerId: number;
  login: string;
  title?: string | null;
  gameId?: string | null;
  gameName?: string | null;
  language?: string | null;
  mature?: boolean | null;
  maxViewers?: number;
  outcome?: "found" | "not_found" | "failed" | null;
  fetchedAt?: string | null;
  durationSeconds?: number | null;
  segmentCount?: number | null;
  mutedCount?: number | null;
  playlist?: string | null;
  public?: boolean | null;
  subOnly?: boolean | null;
}

/** Inserts VODs as the writer stores them (the playlist gzipped); returns their ids. */
export async function insertVods(pool: pg.Pool, vods: TestVod[]): Promise<number[]> {
  const ids: number[] = [];
  for (const v of vods) {
    const outcome = v.outcome === undefined ? "found" : v.outcome;
    const found = outcome === "found";
    const playlist =
      v.playlist === undefined
        ? found
          ? `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.000,\nhttp://cdn.example/${v.streamId}/0.ts\n#EXT-X-ENDLIST\n`
          : null
        : v.playlist;
    const { rows } = await pool.query<{ id: string }>(
      `insert into vods (stream_id, start_time, streamer_id, login, title, game_id, game_name, language, mature, max_viewers, first_seen, last_seen,
                         outcome, fetched_at, duration_seconds, segment_count, muted_count, playlist_gz, public, sub_only)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $2, $2, $11, $12, $13, $14, $15, $16, $17, $18) returning id`,
      [
        v.streamId,
        v.startTime,
        v.streamerId,
        v.login,
        v.title === undefined ? `title of ${v.streamId}` : v.title,
        v.gameId === undefined ? "509658" : v.gameId,
        v.gameName === undefined ? "Just Chatting" : v.gameName,
        v.language === undefined ? "EN" : v.language,
        v.mature === undefined ? false : v.mature,
        v.maxViewers ?? 100,
        outcome,
        v.fetchedAt === undefined ? (found ? v.startTime : null) : v.fetchedAt,
        v.durationSeconds === undefined ? (found ? 3600 : null) : v.durationSeconds,
        v.segmentCount === undefined ? (found ? 360 : null) : v.segmentCount,
        v.mutedCount === undefined ? (found ? 0 : null) : v.mutedCount,
        playlist === null ? null : gzipSync(playlist),
        v.public === undefined ? true : v.public,
        v.subOnly === undefined ? false : v.subOnly,
      ],
    );
    ids.push(Number(rows[0]!.id));
  }
  return ids;
}

export interface TestApi {
  app: Awaited<ReturnType<typeof buildApp>>;
  db: ReadPool;
  close(): Promise<void>;
}

/** The API on a test database, with the defaults a service gets unless overridden. */
export async function testApi(
  url: string,
  o: Partial<AppOptions> & {
    poolMax?: number;
    statementTimeoutMs?: number;
    acquireTimeoutMs?: number;
    clock?: Clock;
  } = {},
): Promise<TestApi> {
  const queueMax = o.dbQueueMax ?? 32;
  const db =
    o.db ??
    createReadPool({
      url,
      max: o.poolMax ?? 4,
      queueMax,
      acquireTimeoutMs: o.acquireTimeoutMs ?? 2_000,
      statementTimeoutMs: o.statementTimeoutMs ?? 5_000,
    });
  const app = await buildApp({
    log: o.log ?? false,
    registry: o.registry ?? new Registry(),
    clock: o.clock ?? systemClock,
    aggregateTtlMs: o.aggregateTtlMs ?? 0,
    maxEventLoopDelayMs: o.maxEventLoopDelayMs ?? 1_000,
    dbQueueMax: queueMax,
    retryAfterSeconds: o.retryAfterSeconds ?? 1,
    ...(o.pressureSampleMs === undefined ? {} : { pressureSampleMs: o.pressureSampleMs }),
    // Off unless a test asks: most tests write rows and read them back at once.
    listCacheTtlMs: o.listCacheTtlMs ?? 0,
    playlistCacheTtlMs: o.playlistCacheTtlMs ?? 0,
    listCacheBytes: o.listCacheBytes,
    listCacheEntries: o.listCacheEntries,
    playlistCacheBytes: o.playlistCacheBytes,
    playlistCacheEntries: o.playlistCacheEntries,
    playlistPlainMaxBytes: o.playlistPlainMaxBytes,
    ...(o.askCheck ? { askCheck: o.askCheck } : {}),
    playableRecheckAfterMs: o.playableRecheckAfterMs,
    db,
  });
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.close();
    },
  };
}
