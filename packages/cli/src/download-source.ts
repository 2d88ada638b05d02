// Which playlist `vods download` fetches: a playlist link as given (the API's archived copy, or the
// CDN's), else the VOD that `vods recover` would find, then the rendition `--quality` asks for.
import { InputError, NotFound, recover, type RecoverSource } from "@vod/recover";
import { parseVodPath, processPlaylist } from "@vod/twitch";
import { renditionPlaylist, SOURCE_QUALITY, type httpGet } from "./download-quality.ts";
import { CommandError, UsageError } from "./errors.ts";
import type { RecoverEnv } from "./recover-env.ts";
import { openArchive, readTarget, recoverOptions, type TargetFlags } from "./recover-setup.ts";
import { playlistSegments } from "./time-range.ts";

export interface DownloadSource {
  login: string;
  streamId: string;
  startTime: string;
  quality: string;
  /** Where the playlist came from: a recover source, or `link` for a playlist link given. */
  via: RecoverSource | "link";
  /** The source playlist on the CDN, when known (renditions sit beside it). */
  cdnUrl: string | null;
  playlistUrl: string;
  /** Playable: absolute segment URIs. */
  playlist: string;
}

export interface ResolveOptions {
  env: RecoverEnv;
  budget: number;
  /** Absent: the playlist as found (the source quality, or a link's own rendition). */
  quality: string | undefined;
  note: (m: string) => void;
  now: () => number;
  get: ReturnType<typeof httpGet>;
  usage: string;
}

const PLAYLIST_LINK = /^https?:\/\/[^?#]+\.m3u8([?#].*)?$/i;

export async function resolveSource(
  input: string | undefined,
  flags: TargetFlags,
  o: ResolveOptions,
): Promise<DownloadSource> {
  const found =
    input !== undefined && PLAYLIST_LINK.test(input.trim())
      ? await fromLink(input.trim(), o)
      : await fromRecover(input, flags, o);
  if (o.quality === undefined || o.quality === found.quality) return found;
  const rendition = await renditionPlaylist(found.cdnUrl, o.quality, o.get);
  return { ...found, quality: o.quality, playlistUrl: rendition.url, playlist: rendition.text };
}

/** A playlist link: the API's (`/m3u8/{streamId}/{unix}/index.m3u8`) or the CDN's; its segment paths name the VOD. */
async function fromLink(url: string, o: ResolveOptions): Promise<DownloadSource> {
  const answer = await o.get(url).catch((err: unknown) => {
    throw new CommandError(`${url} could not be fetched: ${(err as Error).message}`);
  });
  if (answer.status !== 200) throw new CommandError(`${url} answered HTTP ${answer.status}: no playlist there`);
  let playlist: string;
  try {
    playlist = url.endsWith("/index-dvr.m3u8") ? processPlaylist(answer.text, url).text : answer.text;
  } catch (err) {
    throw new CommandError(`${url} is no usable playlist: ${(err as Error).message}`);
  }
  const first = playlistSegments(playlist)[0];
  if (!first) throw new CommandError(`${url} lists no segments`);
  const path = new URL(first.uri).pathname.split("/").slice(-3).join("/");
  const vod = parseVodPath(path);
  if (!vod)
    throw new CommandError(
      `${url} is not a Twitch VOD playlist: its segments are not under {hash}_{login}_{streamId}_{ts}/{quality}/`,
    );
  const cdnUrl = vod.quality === SOURCE_QUALITY ? first.uri.replace(/[^/]+$/, "index-dvr.m3u8") : null;
  // The API's route has the exact start; a CDN path's ts may be a second early (FACTS.md).
  const apiStart = /\/m3u8\/\d+\/(\d+)\/index\.m3u8/.exec(url)?.[1];
  const startMs = Number(apiStart ?? vod.ts) * 1000;
  return {
    login: vod.login,
    streamId: vod.streamId,
    startTime: new Date(startMs).toISOString().replace(".000Z", "Z"),
    quality: vod.quality ?? SOURCE_QUALITY,
    via: "link",
    cdnUrl,
    playlistUrl: url,
    playlist,
  };
}

/** Any other input: found as `vods recover` finds it (archive first). */
async function fromRecover(input: string | undefined, flags: TargetFlags, o: ResolveOptions): Promise<DownloadSource> {
  const { target, time } = readTarget(input, flags, o.now(), o.usage);
  const archive = await openArchive(o.env, o.note, "vods-download");
  try {
    const r = await recover(
      target,
      time,
      recoverOptions(o.env, { db: archive.db, budget: o.budget, note: o.note, now: o.now }),
    );
    return {
      login: r.login,
      streamId: r.streamId,
      startTime: r.startTime,
      quality: SOURCE_QUALITY,
      via: r.source,
      cdnUrl: r.cdnUrl,
      playlistUrl: r.url,
      playlist: r.playlist,
    };
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`${err.message}\n${o.usage}`);
    if (err instanceof NotFound) throw new CommandError(err.message, 1);
    throw err;
  } finally {
    await archive.close();
  }
}
