import { LIVE_VOD_DOMAINS } from "../domains.ts";

export interface ProcessedPlaylist {
  /** The playlist with absolute URIs and `-unmuted` names rewritten to `-muted`. */
  text: string;
  durationSeconds: number;
  segments: number;
  mutedSegments: number;
  /** Lines left out: URIs that do not resolve or point elsewhere, over-long lines, control characters, bad EXTINF. */
  skippedLines: number;
  /** The first line left out, cut to 100 characters (for a log line). */
  firstSkipped: string | null;
}

/**
 * Bounds on what a playlist from the CDN may cost. Twitch's longest VOD (48 h) of 10 s segments
 * is 17,280 segments, about 0.5 MB in and 2.3 MB once every URI is absolute.
 */
export interface PlaylistLimits {
  /** Segment URI lines (kept or skipped). */
  maxSegments: number;
  /** UTF-8 bytes of the playlist as received. */
  maxInputBytes: number;
  /** UTF-8 bytes of the processed playlist. */
  maxOutputBytes: number;
  /**
   * Hosts whose absolute URIs are kept besides the playlist's own (compared without the port):
   * the CDN domains. Anything else, and any scheme but http(s), is left out.
   */
  hosts: ReadonlySet<string>;
}

export const DEFAULT_PLAYLIST_LIMITS: PlaylistLimits = {
  maxSegments: 50_000,
  maxInputBytes: 4 * 1024 * 1024,
  maxOutputBytes: 8 * 1024 * 1024,
  hosts: new Set(LIVE_VOD_DOMAINS),
};

/** A playlist over a cap: fetching it again gives the same playlist, so the refusal is final. */
export class PlaylistRefused extends Error {
  override readonly name = "PlaylistRefused";
}

// `-unmuted` files tend to vanish once the mute run has passed; the `-muted` name stays playable.
const UNMUTED = /-unmuted(\.(?:ts|mp4))(\?.*)?$/;
const MUTED = /-muted\.(?:ts|mp4)(?:\?.*)?$/;
const URI_ATTR = /URI="([^"]*)"/g;
const EXTINF = /^#EXTINF:([^,]*)/;
// Longer than any real tag or segment line by far; a longer one is junk or an attack on the output size.
const MAX_LINE = 2048;
// Tags never carry a tab; a lone CR or a NUL inside a line would reach players and logs.
const CONTROL = /\p{Cc}/u;
const MAX_EXTINF = 86_400;
// A file name in the playlist's folder that URL resolution leaves as it is (no dot segment, nothing to encode).
const PLAIN_NAME = /^[\w-][\w.-]*$/;

/** True when a CDN answer is a playlist (a hit), not an error page or a bucket listing. */
export function isPlaylist(body: string): boolean {
  return body.replace(/^\uFEFF/, "").startsWith("#EXTM3U");
}

/** A finished VOD's playlist ends with #EXT-X-ENDLIST; a live one has none yet (FACTS.md). */
export function hasEndList(body: string): boolean {
  return /^#EXT-X-ENDLIST\s*$/m.test(body);
}

const TDTG = /^#ID3-EQUIV-TDTG:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\s*$/m;
const TOTAL_SECS = /^#EXT-X-TWITCH-TOTAL-SECS:([0-9.]+)\s*$/m;

/**
 * The latest the VOD can have started, from its playlist's own tags: it was written
 * (`#ID3-EQUIV-TDTG`, UTC to the second) no earlier than the VOD ended, and the VOD lasts
 * `#EXT-X-TWITCH-TOTAL-SECS`. Null when either tag is absent.
 */
export function latestStartMs(body: string): number | null {
  const written = TDTG.exec(body);
  const total = TOTAL_SECS.exec(body);
  if (!written || !total) return null;
  const writtenMs = Date.parse(`${written[1]}Z`);
  if (Number.isNaN(writtenMs)) return null;
  // Both tags are cut to the second: allow the second either one lost.
  return writtenMs + 1000 - Math.floor(Number(total[1])) * 1000;
}

/**
 * Makes a VOD playlist playable from anywhere (mpv, VLC, ffmpeg): every segment URI and tag `URI`
 * attribute (`#EXT-X-MAP`) resolved against the playlist's own URL, `-unmuted` segments renamed to
 * `-muted`. Counts segments, muted segments and the total duration on the way.
 *
 * The body is untrusted: only http(s) URIs on the playlist's host or `limits.hosts` are kept; a line
 * that does not resolve, points elsewhere, is over-long or carries control characters is left out
 * and counted, never fatal. A playlist over a cap throws `PlaylistRefused` before its output grows
 * past the cap.
 */
export function processPlaylist(
  body: string,
  playlistUrl: string,
  limits: PlaylistLimits = DEFAULT_PLAYLIST_LIMITS,
): ProcessedPlaylist {
  const inputBytes = Buffer.byteLength(body);
  if (inputBytes > limits.maxInputBytes)
    throw new PlaylistRefused(`playlist of ${inputBytes} bytes is over the cap of ${limits.maxInputBytes} bytes`);
  const base = new URL(playlistUrl);
  const keep = (uri: string) => resolve(uri, base, limits.hosts);
  const out: (string | null)[] = [];
  // The EXTINF waiting for its segment: left out with it when the segment is.
  let pending: { at: number; ms: number } | null = null;
  let outputBytes = 0;
  let durationMs = 0;
  let segments = 0;
  let uriLines = 0;
  let mutedSegments = 0;
  let skippedLines = 0;
  let firstSkipped: string | null = null;
  const skip = (line: string) => {
    skippedLines++;
    firstSkipped ??= line.slice(0, 100);
  };
  for (const raw of lines(body.replace(/^\uFEFF/, ""))) {
    const line = raw.trim();
    let kept: string | null = line;
    if (line.length > MAX_LINE || CONTROL.test(line)) kept = null;
    else if (line.startsWith("#")) {
      const inf = EXTINF.exec(line);
      const seconds = inf ? Number(inf[1]) : 0;
      if (!(seconds >= 0 && seconds <= MAX_EXTINF)) kept = null;
      else {
        kept = tagUris(line, keep);
        if (inf && kept !== null) {
          durationMs += Math.round(seconds * 1000);
          pending = { at: out.length, ms: Math.round(seconds * 1000) };
        }
      }
    } else if (line !== "") {
      if (++uriLines > limits.maxSegments)
        throw new PlaylistRefused(`playlist has more than ${limits.maxSegments} segments (the cap)`);
      kept = keep(line.replace(UNMUTED, "-muted$1$2"));
      if (kept !== null) {
        segments++;
        if (MUTED.test(kept)) mutedSegments++;
      } else if (pending) {
        outputBytes -= Buffer.byteLength(out[pending.at]!) + 1;
        durationMs -= pending.ms;
        out[pending.at] = null;
      }
      pending = null;
    }
    if (kept === null) {
      skip(line);
      continue;
    }
    outputBytes += Buffer.byteLength(kept) + 1;
    if (outputBytes > limits.maxOutputBytes)
      throw new PlaylistRefused(`processed playlist is over the cap of ${limits.maxOutputBytes} bytes`);
    out.push(kept);
  }
  // Summed in whole milliseconds (what EXTINF carries): float sums drift (0.1 + 0.2).
  return {
    text: out.filter((l) => l !== null).join("\n"),
    durationSeconds: durationMs / 1000,
    segments,
    mutedSegments,
    skippedLines,
    firstSkipped,
  };
}

/** The lines of `text`, read as they are needed: a playlist refused at a cap is never split whole. */
function* lines(text: string): Generator<string> {
  let from = 0;
  for (;;) {
    const end = text.indexOf("\n", from);
    if (end < 0) return yield text.slice(from);
    yield text.slice(from, end);
    from = end + 1;
  }
}

/** A tag line with each `URI="…"` attribute made absolute, or null when one of them is not kept. */
function tagUris(line: string, keep: (uri: string) => string | null): string | null {
  let bad = false;
  const text = line.replace(URI_ATTR, (_, uri: string) => {
    const abs = keep(uri);
    if (abs === null) bad = true;
    return `URI="${abs ?? ""}"`;
  });
  return bad ? null : text;
}

/** `uri` made absolute against `base`, or null: unparsable, not http(s), credentials, or a host not ours. */
function resolve(uri: string, base: URL, hosts: ReadonlySet<string>): string | null {
  // Twitch's own lines (`123.ts`, `init-0.mp4`) resolve by concatenation: ten times faster than a parse.
  if (PLAIN_NAME.test(uri)) return base.origin + base.pathname.slice(0, base.pathname.lastIndexOf("/") + 1) + uri;
  let url: URL;
  try {
    url = new URL(uri, base);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username !== "" || url.password !== "") return null;
  if (url.hostname !== base.hostname && !hosts.has(url.hostname)) return null;
  // `"` would end a tag attribute early; new URL percent-encodes it in paths but not everywhere.
  return url.href.includes('"') ? null : url.href;
}
