import { z } from "zod";
import { bigintId, gameId, language, login } from "./params.ts";

export const isoTime = z.iso.datetime({ offset: true, message: "expected an RFC 3339 time like 2026-11-22T14:00:00Z" });

export const vodsQuery = z
  .object({
    login: login.optional().describe("streamer login; follows renames (resolved to the streamer id of its newest VOD)"),
    streamerId: bigintId("a streamer id").optional(),
    gameId: gameId.optional(),
    language: language.optional(),
    visibility: z.enum(["public", "sub_only", "hidden", "unknown"]).optional(),
    outcome: z.enum(["found", "not_found", "failed", "pending"]).optional(),
    playable: z
      .enum(["playable", "partial", "gone", "unchecked"])
      .optional()
      .describe("the last segment check's answer (`unchecked`: never checked)"),
    from: isoTime.optional().describe("start time at or after"),
    to: isoTime.optional().describe("start time before"),
    limit: z.coerce.number({ message: "expected a number" }).int("expected a whole number").min(1).max(100).default(50),
    cursor: z.string().max(200).optional().describe("the `next` of the previous page"),
  })
  .strict();

/** Routes without query parameters refuse any, so a client learns of its typo instead of a silent ignore. */
export const noQuery = z.object({}).strict();

export const v1ItemSchema = z.object({
  id: z.number().int(),
  streamId: z.string(),
  startTime: z.string(),
  streamerId: z.string(),
  login: z.string(),
  title: z.string().nullable(),
  gameId: z.string().nullable(),
  gameName: z.string().nullable(),
  language: z.string().nullable(),
  mature: z.boolean().nullable(),
  maxViewers: z.number().int(),
  lastSeen: z.string(),
  outcome: z.enum(["found", "not_found", "failed", "pending"]),
  fetchedAt: z.string().nullable(),
  visibility: z.enum(["public", "sub_only", "hidden", "unknown"]),
  durationSeconds: z.number().nullable(),
  segments: z.number().int().nullable(),
  mutedSegments: z.number().int().nullable(),
  mutedShare: z.number().nullable(),
  playlist: z.string().nullable(),
  /** The Twitch video id (twitch.tv/videos/{id}) the streamer's listing named it under; null when never listed. */
  videoId: z.string().nullable(),
  /**
   * The last check of its first, middle and last segments on the CDN (asked when the VOD is opened, redone after
   * a day): `playable` all answered, `partial` some, `gone` none; null when never checked.
   */
  playable: z.object({ state: z.enum(["playable", "partial", "gone"]), checkedAt: z.string() }).nullable(),
});
export const vodsPage = z.object({ items: z.array(v1ItemSchema), next: z.string().nullable() });

export const streamerSchema = z.object({
  streamerId: z.string(),
  login: z.string(),
  logins: z.array(z.string()),
  vods: z.number().int(),
  archived: z.number().int(),
  firstStartTime: z.string(),
  lastStartTime: z.string(),
  recent: z.array(v1ItemSchema),
});
