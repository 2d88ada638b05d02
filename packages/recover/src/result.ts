import { hasEndList, processPlaylist } from "@vod/twitch";
import type { RecoverRun } from "./run.ts";
import type { SearchTried } from "./search.ts";
import { checkSegments } from "./segments.ts";

export type RecoverSource = "archive" | "seen" | "listing" | "cdn";

export interface Recovered {
  source: RecoverSource;
  login: string;
  streamId: string;
  /** Start time (UTC, ISO) as the source knows it: exact for archive and seen, else the path's ts. */
  startTime: string;
  /** The playlist on the CDN (or, for the archive, the API's playlist route). */
  url: string;
  /** The CDN playlist's URL when known. */
  cdnUrl: string | null;
  /** The playlist, made playable (absolute URIs, -unmuted → -muted), dead segments commented out. */
  playlist: string;
  live: boolean;
  requests: number;
  seconds: number;
  segments: number;
  /** Segments checked and found dead; null when not checked. */
  checkedSegments: number | null;
  deadSegments: { uri: string; status: string }[] | null;
}

/** Nothing found after every source and the bounded search: what was tried. */
export class NotFound extends Error {
  override name = "NotFound";
  constructor(
    message: string,
    readonly tried: { sources: string[]; search: SearchTried | null; requests: number; seconds: number },
  ) {
    super(message);
  }
}

/** Where a playlist was found and whose it is. */
export interface FoundAt {
  url: string;
  startMs: number;
  login: string;
  cdnUrl?: string | null;
}

/** The answer for a playlist found: made playable, its segments checked when asked, with the run's cost. */
export async function finish(
  run: RecoverRun,
  streamId: string,
  at: FoundAt,
  body: string,
  source: RecoverSource,
): Promise<Recovered> {
  const { o, client, signal } = run;
  // A stored playlist is playable already; one from the CDN is made so by the fetcher's code.
  const made =
    source === "archive"
      ? { text: body, segments: processPlaylist(body, at.url).segments }
      : processPlaylist(body, at.url);
  let text = made.text;
  let checked: number | null = null;
  let dead: { uri: string; status: string }[] | null = null;
  if (o.checkSegments !== undefined) {
    const check = await checkSegments(text, o.checkSegments, client, signal);
    text = check.text;
    checked = check.checked;
    dead = check.dead;
  }
  return {
    source,
    login: at.login,
    streamId,
    startTime: new Date(at.startMs).toISOString().replace(".000Z", "Z"),
    url: at.url,
    cdnUrl: at.cdnUrl === undefined ? at.url : at.cdnUrl,
    playlist: text,
    live: !hasEndList(body),
    requests: client.requests,
    seconds: run.elapsed(),
    segments: made.segments,
    checkedSegments: checked,
    deadSegments: dead,
  };
}
