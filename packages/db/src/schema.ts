import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/**
 * One row per VOD, identified by (stream_id, start_time): a stream id alone can carry two VODs after a restart.
 * Fillfactor 50 (migration 0004, drizzle's table builder cannot say it): room on each page for sweep updates to stay HOT.
 */
export const vods = pgTable(
  "vods",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    streamId: bigint("stream_id", { mode: "number" }).notNull(),
    startTime: timestamp("start_time", { withTimezone: true, precision: 3 }).notNull(),
    streamerId: bigint("streamer_id", { mode: "number" }).notNull(),
    login: text("login").notNull(),
    // Fields "at start" keep the first value seen.
    title: text("title"),
    gameId: text("game_id"),
    gameName: text("game_name"),
    language: text("language"),
    mature: boolean("mature"),
    // observedAt of the snapshot the at-start fields came from: the earliest one wins, whatever the delivery order.
    startFieldsSeenAt: timestamp("start_fields_seen_at", { withTimezone: true, precision: 3 }),
    maxViewers: integer("max_viewers").notNull().default(0),
    firstSeen: timestamp("first_seen", { withTimezone: true, precision: 3 }).notNull(),
    lastSeen: timestamp("last_seen", { withTimezone: true, precision: 3 }).notNull(),
    // The archive outcome; a found outcome is never replaced by a later failure.
    outcome: text("outcome", { enum: ["found", "not_found", "failed"] }),
    fetchedAt: timestamp("fetched_at", { withTimezone: true, precision: 3 }),
    fetchRequests: integer("fetch_requests"),
    domain: text("domain"),
    url: text("url"),
    tsVariant: text("ts_variant"),
    durationSeconds: real("duration_seconds"),
    segmentCount: integer("segment_count"),
    mutedCount: integer("muted_count"),
    playlistGz: bytea("playlist_gz"),
    fetchError: text("fetch_error"),
    public: boolean("public"),
    subOnly: boolean("sub_only"),
    // The id GraphQL lists the VOD under (twitch.tv/videos/{id}); null until a listing names it.
    videoId: bigint("video_id", { mode: "number" }),
    // The last check of a few of its segments on the CDN: whether the stored playlist still plays.
    playable: text("playable", { enum: ["playable", "partial", "gone"] }),
    playableCheckedAt: timestamp("playable_checked_at", { withTimezone: true, precision: 3 }),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("vods_stream_start_uq").on(t.streamId, t.startTime),
    index("vods_found_fetched_idx")
      .on(t.fetchedAt, t.id)
      .where(sql`${t.outcome} = 'found'`),
    index("vods_login_idx").on(t.login, t.startTime),
    index("vods_game_idx").on(t.gameId, t.startTime),
    index("vods_language_idx").on(t.language, t.startTime),
    // The read API: newest first with an id to break ties, so keyset pages are exact; one per filter it serves.
    index("vods_start_id_idx").on(t.startTime, t.id),
    index("vods_found_start_id_idx")
      .on(t.startTime, t.id)
      .where(sql`${t.outcome} = 'found'`),
    index("vods_streamer_start_id_idx").on(t.streamerId, t.startTime, t.id),
    index("vods_game_start_id_idx").on(t.gameId, t.startTime, t.id),
    index("vods_language_start_id_idx").on(t.language, t.startTime, t.id),
    // The compatible lists of archived VODs, by max viewers.
    index("vods_found_public_viewers_idx")
      .on(t.public, t.maxViewers, t.id)
      .where(sql`${t.outcome} = 'found'`),
    index("vods_found_language_viewers_idx")
      .on(t.language, t.public, t.maxViewers, t.id)
      .where(sql`${t.outcome} = 'found'`),
    index("vods_found_game_viewers_idx")
      .on(t.gameId, t.public, t.maxViewers, t.id)
      .where(sql`${t.outcome} = 'found'`),
    index("vods_video_idx")
      .on(t.videoId)
      .where(sql`${t.videoId} is not null`),
    index("vods_playable_start_id_idx")
      .on(t.playable, t.startTime, t.id)
      .where(sql`${t.playable} is not null`),
    // Login prefix search: byte order, so LIKE 'abc%' is a range scan whatever the database's collation.
    index("vods_login_c_idx").on(sql`${t.login} collate "C"`, t.startTime),
  ],
);

export type Vod = typeof vods.$inferSelect;
export type NewVod = typeof vods.$inferInsert;

/**
 * What the fetcher knows of each streamer: the domain that last served its VOD (tried first), and
 * how its VODs turned out, which decides how much a VOD GQL does not list is worth searching for.
 */
export const cdnStreamerDomains = pgTable("cdn_streamer_domains", {
  streamerId: bigint("streamer_id", { mode: "number" }).primaryKey(),
  // Null until one of the streamer's VODs is found.
  domain: text("domain"),
  foundAt: timestamp("found_at", { withTimezone: true, precision: 3 }),
  foundCount: integer("found_count").notNull().default(0),
  notFoundCount: integer("not_found_count").notNull().default(0),
  // Found on the CDN while GQL did not list it: the streamer hides its VODs.
  unlistedFoundCount: integer("unlisted_found_count").notNull().default(0),
  // Last time a VOD of the streamer was searched for on the CDN (at least one request).
  checkedAt: timestamp("checked_at", { withTimezone: true, precision: 3 }),
});

/** The fetcher's view of each CDN domain's health; survives restarts so ordering does not start cold. */
export const cdnDomainHealth = pgTable("cdn_domain_health", {
  domain: text("domain").primaryKey(),
  // Hits, decayed exponentially by age: recent successes rank a domain first.
  score: real("score").notNull().default(0),
  scoredAt: timestamp("scored_at", { withTimezone: true, precision: 3 }).notNull(),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  lastSuccessAt: timestamp("last_success_at", { withTimezone: true, precision: 3 }),
  lastFailureAt: timestamp("last_failure_at", { withTimezone: true, precision: 3 }),
  // Set for a domain learned from a seekPreviewsURL rather than configured: its last served playlist
  // (a learned domain without one for DOMAIN_LEARNED_TTL is forgotten).
  discoveredAt: timestamp("discovered_at", { withTimezone: true, precision: 3 }),
  discoveredFrom: text("discovered_from"),
});

/**
 * Work the fetcher owes after a VOD's first outcome: a retry of a failed one (with backoff), or the
 * deep search of one given up early (candidates not tried yet, on leftover budget, until a deadline).
 */
export const fetchFollowups = pgTable(
  "fetch_followups",
  {
    streamId: bigint("stream_id", { mode: "number" }).notNull(),
    startTime: timestamp("start_time", { withTimezone: true, precision: 3 }).notNull(),
    kind: text("kind", { enum: ["retry", "deep"] }).notNull(),
    /** The fetch request, as received. */
    request: jsonb("request").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAt: timestamp("next_at", { withTimezone: true, precision: 3 }).notNull(),
    deadline: timestamp("deadline", { withTimezone: true, precision: 3 }).notNull(),
    /** Deep search: the probability that the VOD is on the CDN when the first search stopped. */
    prior: real("prior"),
    /** Deep search: it gives up below this probability (lower for a streamer whose kind is still unknown). */
    stopProbability: real("stop_probability"),
    /** Deep search: candidates already answered, as "domain ts". */
    tried: text("tried")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
  },
  (t) => [primaryKey({ columns: [t.streamId, t.startTime] })],
);

/**
 * Streamers who asked to be left out, one row per request (append-only, so each is kept with its reason
 * and time). Their VODs are deleted when the row is written, and no later snapshot or result of theirs is
 * archived; the API answers 410 for their links.
 */
export const takedowns = pgTable(
  "takedowns",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    login: text("login").notNull(),
    // Known when the archive had a VOD of the login; matches the streamer after a rename.
    streamerId: bigint("streamer_id", { mode: "number" }),
    reason: text("reason").notNull(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    removedVods: integer("removed_vods").notNull().default(0),
  },
  (t) => [index("takedowns_login_idx").on(t.login), index("takedowns_streamer_idx").on(t.streamerId)],
);

export type Takedown = typeof takedowns.$inferSelect;

/**
 * The VODs a takedown removed, written in the forget's transaction: their rows are gone, and the API still
 * answers 410 (not 404) for their links, by stream id, video id or login.
 */
export const takedownVods = pgTable(
  "takedown_vods",
  {
    takedownId: bigint("takedown_id", { mode: "number" })
      .notNull()
      .references(() => takedowns.id),
    streamId: bigint("stream_id", { mode: "number" }).notNull(),
    startTime: timestamp("start_time", { withTimezone: true, precision: 3 }).notNull(),
    streamerId: bigint("streamer_id", { mode: "number" }).notNull(),
    login: text("login").notNull(),
    videoId: bigint("video_id", { mode: "number" }),
  },
  (t) => [
    primaryKey({ columns: [t.takedownId, t.streamId, t.startTime] }),
    index("takedown_vods_stream_idx").on(t.streamId),
    index("takedown_vods_login_idx").on(t.login),
    index("takedown_vods_video_idx")
      .on(t.videoId)
      .where(sql`${t.videoId} is not null`),
  ],
);

/**
 * Transaction-level advisory lock key between a forget (exclusive) and the writer's upserts (shared): a forget
 * waits for the batches in flight and no batch reads the takedowns before the forget commits.
 */
export const TAKEDOWN_LOCK = 7_246_119_302;
