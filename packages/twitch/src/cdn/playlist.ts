export interface ProcessedPlaylist {
  /** The playlist with absolute URIs and `-unmuted` names rewritten to `-muted`. */
  text: string;
  durationSeconds: number;
  segments: number;
  mutedSegments: number;
}

// `-unmuted` files tend to vanish once the mute run has passed; the `-muted` name stays playable.
const UNMUTED = /-unmuted(\.(?:ts|mp4))(\?.*)?$/;
const MUTED = /-muted\.(?:ts|mp4)(?:\?.*)?$/;
const MAP_URI = /^(#EXT-X-MAP:.*?URI=")([^"]*)(".*)$/;
const EXTINF = /^#EXTINF:([0-9.]+)/;

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
 * Makes a VOD playlist playable from anywhere (mpv, VLC, ffmpeg): every segment URI and
 * `#EXT-X-MAP` URI resolved against the playlist's own URL, `-unmuted` segments renamed to
 * `-muted`. Counts segments, muted segments and the total duration on the way.
 */
export function processPlaylist(body: string, playlistUrl: string): ProcessedPlaylist {
  const lines = body.replace(/^\uFEFF/, "").split(/\r?\n/);
  let durationSeconds = 0;
  let segments = 0;
  let mutedSegments = 0;
  const out = lines.map((raw) => {
    const line = raw.trim();
    if (line === "") return raw;
    if (line.startsWith("#")) {
      const inf = EXTINF.exec(line);
      if (inf) durationSeconds += Number(inf[1]);
      const map = MAP_URI.exec(line);
      return map ? `${map[1]}${absolute(map[2]!, playlistUrl)}${map[3]}` : line;
    }
    segments++;
    const uri = absolute(line.replace(UNMUTED, "-muted$1$2"), playlistUrl);
    if (MUTED.test(uri)) mutedSegments++;
    return uri;
  });
  // Float sums drift (0.1 + 0.2); milliseconds are what EXTINF carries.
  return { text: out.join("\n"), durationSeconds: Math.round(durationSeconds * 1000) / 1000, segments, mutedSegments };
}

function absolute(uri: string, base: string): string {
  return new URL(uri, base).href;
}
