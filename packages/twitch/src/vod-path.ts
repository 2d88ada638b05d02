import { createHash } from "node:crypto";

export type TimestampVariant = "start" | "minus1" | "seconds";

export interface TimestampCandidate {
  variant: TimestampVariant;
  ts: number;
}

export interface ParsedVodPath {
  hash: string;
  login: string;
  streamId: string;
  ts: number;
  /** Rendition folder, e.g. `chunked`; undefined when only the key was given. */
  quality: string | undefined;
  /** File below the rendition folder, e.g. `index-dvr.m3u8` or `12-muted.ts`. */
  file: string | undefined;
}

/** First 20 hex characters of sha1("{login}_{streamId}_{ts}"). */
export function vodHash(login: string, streamId: string | number, ts: number): string {
  return createHash("sha1").update(`${login}_${streamId}_${ts}`).digest("hex").slice(0, 20);
}

/** The folder name that identifies a VOD on the CDN: `{hash}_{login}_{streamId}_{ts}`. */
export function vodKey(login: string, streamId: string | number, ts: number): string {
  return `${vodHash(login, streamId, ts)}_${login}_${streamId}_${ts}`;
}

/** Path of a VOD's playlist relative to a CDN domain's root, without a leading slash. */
export function vodPath(login: string, streamId: string | number, ts: number, quality = "chunked"): string {
  return `${vodKey(login, streamId, ts)}/${quality}/index-dvr.m3u8`;
}

const KEY_HEAD = /^([0-9a-f]{20})_(.+)$/;
const DIGITS = /^\d+$/;

/**
 * Parses a VOD key or path (`{hash}_{login}_{streamId}_{ts}[/{quality}/{file}]`, a leading
 * slash allowed). Logins may contain `_`, so the stream id and ts are taken from the end.
 * Does not check that the hash matches; compare with `vodHash` for that.
 */
export function parseVodPath(path: string): ParsedVodPath | null {
  const parts = path.replace(/^\/+/, "").split("/");
  const key = parts[0];
  if (key === undefined || parts.length > 3 || parts.length === 2) return null;
  const head = KEY_HEAD.exec(key);
  if (!head) return null;
  const [, hash, rest] = head as unknown as [string, string, string];
  const tsAt = rest.lastIndexOf("_");
  const idAt = rest.lastIndexOf("_", tsAt - 1);
  if (tsAt <= 0 || idAt <= 0) return null;
  const login = rest.slice(0, idAt);
  const streamId = rest.slice(idAt + 1, tsAt);
  const ts = rest.slice(tsAt + 1);
  if (!DIGITS.test(streamId) || !DIGITS.test(ts)) return null;
  const quality = parts[1];
  const file = parts[2];
  if (quality === "" || file === "") return null;
  return { hash, login, streamId, ts: Number(ts), quality, file };
}

/**
 * Timestamps a VOD's path may use, most likely first: the start time in Unix seconds, one
 * second less, and (for a restart that got the same stream id) the seconds field alone.
 */
export function timestampCandidates(startTime: Date): TimestampCandidate[] {
  const ts = Math.floor(startTime.getTime() / 1000);
  return [
    { variant: "start", ts },
    { variant: "minus1", ts: ts - 1 },
    { variant: "seconds", ts: startTime.getUTCSeconds() },
  ];
}
