// `--from`/`--to` of `vods download`: offsets into a VOD, and the segments that cover them.
import { UsageError } from "./errors.ts";
import { clock } from "./progress.ts";

/** One segment of a playable playlist: its place in the playlist and in the VOD's time. */
export interface Segment {
  /** 0-based position among the playlist's segments (names the file on disk). */
  index: number;
  uri: string;
  /** Seconds from the VOD's start. */
  start: number;
  duration: number;
}

/** The segments of a playable playlist (absolute URIs), timed by their #EXTINF; comment lines are skipped. */
export function playlistSegments(text: string): Segment[] {
  const out: Segment[] = [];
  let pending: number | null = null;
  let at = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXTINF:")) pending = Number.parseFloat(line.slice(8));
    else if (line !== "" && !line.startsWith("#")) {
      const duration = pending !== null && Number.isFinite(pending) && pending > 0 ? pending : 0;
      out.push({ index: out.length, uri: line, start: at, duration });
      at += duration;
      pending = null;
    }
  }
  return out;
}

/** An offset as H:MM:SS, MM:SS or seconds (decimals allowed in the last field). */
export function parseOffset(raw: string, flag: string): number {
  const text = raw.trim();
  if (!/^\d+(:\d{1,2}){0,2}(\.\d+)?$/.test(text))
    throw new UsageError(
      `${flag} "${raw}" is not a time into the VOD: write H:MM:SS (1:02:00), MM:SS (62:00) or seconds (3720)`,
    );
  const parts = text.split(":").map(Number);
  if (parts.slice(1).some((p) => p >= 60))
    throw new UsageError(`${flag} "${raw}": minutes and seconds after a colon go up to 59`);
  return parts.reduce((sum, p) => sum * 60 + p, 0);
}

/** A time for messages: to the tenth of a second when it is not whole (a VOD's last segment is short). */
const at = (s: number): string =>
  Number.isInteger(s) ? clock(s) : `${clock(Math.floor(s))}${(s % 1).toFixed(1).slice(1)}`;

/** The segments covering [from, to); `trimOf` then cuts the range out of them. */
export function segmentsInRange(
  segments: readonly Segment[],
  from: number | undefined,
  to: number | undefined,
): Segment[] {
  const last = segments.at(-1);
  const total = last ? last.start + last.duration : 0;
  const start = from ?? 0;
  const end = to ?? total;
  if (start >= total) throw new UsageError(`--from ${at(start)} is at or past the VOD's end (it lasts ${at(total)})`);
  if (end > total + 0.001) throw new UsageError(`--to ${at(end)} is past the VOD's end (it lasts ${at(total)})`);
  if (start >= end) throw new UsageError(`--from ${at(start)} must come before --to ${at(end)}`);
  return segments.filter((s) => s.start < end && s.start + s.duration > start);
}

/**
 * Where [from, to) lies within the joined segments `alive` (dead ones left out, so they shorten it):
 * seconds to skip and to keep. Undefined without a range (the whole VOD: nothing to cut).
 */
export function trimOf(
  alive: readonly Segment[],
  from: number | undefined,
  to: number | undefined,
): { from: number; to: number; trim: { skip: number; length: number } } | undefined {
  if (from === undefined && to === undefined) return undefined;
  const first = alive[0]!;
  const last = alive.at(-1)!;
  const start = Math.max(from ?? 0, first.start);
  const end = Math.min(to ?? Infinity, last.start + last.duration);
  const length = alive.reduce(
    (sum, s) => sum + Math.max(0, Math.min(end, s.start + s.duration) - Math.max(start, s.start)),
    0,
  );
  return { from: start, to: end, trim: { skip: start - first.start, length } };
}
