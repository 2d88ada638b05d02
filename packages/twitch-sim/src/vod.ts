import { vodPath, type TimestampVariant } from "@vod/twitch";
import { nextBoundaryAfter } from "./clock.ts";
import { GAMES } from "./games.ts";
import type { Streamer } from "./population.ts";

export const SEGMENT_MS = 10_000;

/** One session's recording: what the CDN serves and GQL lists, and the ground truth reports. */
export interface Vod {
  readonly key: string;
  readonly login: string;
  readonly streamerIdx: number;
  readonly streamerId: string;
  readonly streamId: string;
  readonly videoId: string;
  readonly startMs: number;
  readonly ts: number;
  readonly variant: TimestampVariant;
  readonly domain: string;
  /** The streamer's home domain when the session started (`domain` differs when the VOD was scattered). */
  readonly homeDomain: string;
  /** The streamer's migrations so far, and whether this session is the first on the new home domain. */
  readonly migrations: number;
  readonly migratedHere: boolean;
  /** Viewers during a false start (a short session under the tracking threshold); null for other sessions. */
  readonly falseStartViewers: number | null;
  /** Listed in `user.videos` this long after the end; null: listed from the start, while live too. */
  readonly listDelayMs: number | null;
  /** Most viewers in any tick, cached once the VOD has ended (-1 until then). */
  peakViewers: number;
  /** Planned end while live (Infinity when open-ended), actual end once ended. */
  endMs: number;
  ended: boolean;
  readonly saved: boolean;
  readonly deleteAfterMs: number | null;
  /** Set when the VOD ends (end + deleteAfterMs) or by the admin API. */
  deletedAtMs: number | null;
  readonly hidden: boolean;
  readonly subOnly: boolean;
  /** Flattened half-open ranges: from0, to0, from1, to1, ... */
  readonly muted: readonly number[];
  /** Set for scripted titles only; others are derived (see titleOf) to keep VODs small. */
  readonly title: string | null;
  readonly session: number;
  readonly gameIdx: number;
  readonly language: string;
}

/** Ends a live VOD at `at` (whole seconds, at least one second long); a planned deletion now gets its time. */
export function endVod(vod: Vod, at: number): void {
  vod.endMs = Math.max(vod.startMs + 1000, Math.floor(at / 1000) * 1000);
  vod.ended = true;
  if (vod.deleteAfterMs !== null && vod.deletedAtMs === null) vod.deletedAtMs = vod.endMs + vod.deleteAfterMs;
}

export function isDeletedAt(vod: Vod, now: number): boolean {
  return vod.deletedAtMs !== null && now >= vod.deletedAtMs;
}

/** When the VOD shows up among its streamer's ARCHIVE videos: null if never (hidden, not saved) or not known yet (live). */
export function listedFromMs(vod: Vod): number | null {
  if (!vod.saved || vod.hidden) return null;
  if (vod.listDelayMs === null) return vod.startMs;
  return vod.ended ? vod.endMs + vod.listDelayMs : null;
}

/** Listed among the streamer's ARCHIVE videos (what makes a VOD "public" to our services). */
export function isListedAt(vod: Vod, now: number): boolean {
  const from = listedFromMs(vod);
  return from !== null && now >= from && !isDeletedAt(vod, now);
}

/** The mute run that processes a VOD: the first boundary strictly after its end. */
export function muteRunOf(vod: Vod, muteIntervalMs: number): number | null {
  return vod.ended ? nextBoundaryAfter(vod.endMs, muteIntervalMs) : null;
}

export function isMuteAppliedAt(vod: Vod, now: number, muteIntervalMs: number): boolean {
  const at = muteRunOf(vod, muteIntervalMs);
  return at !== null && now >= at;
}

/** Milliseconds of video available at `now`. */
export function availableMs(vod: Vod, now: number): number {
  return Math.max(0, (vod.ended ? vod.endMs : now) - vod.startMs);
}

export function titleOf(vod: Vod, streamer: Streamer): string {
  return vod.title ?? `${GAMES[vod.gameIdx]?.name ?? "stream"} with ${streamer.displayName} #${vod.session}`;
}

/** Where a VOD's playlist lives, relative to its domain's root. */
export function pathOf(vod: Vod, quality = "chunked"): string {
  return vodPath(vod.login, vod.streamId, vod.ts, quality);
}
