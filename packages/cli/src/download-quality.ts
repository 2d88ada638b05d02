// `--quality`: Twitch keeps each rendition beside the source (`…/chunked/index-dvr.m3u8`, FACTS.md):
// `…/720p60/index-dvr.m3u8` and so on. The CDN answers 403 for one that was not made.
import { PlaylistRefused, processPlaylist, VOD_QUALITIES } from "@vod/twitch";
import { CommandError, UsageError } from "./errors.ts";

export const SOURCE_QUALITY = "chunked";
const SOURCE_PATH = /\/chunked\/index-dvr\.m3u8$/;

/** `source` reads as Twitch's own name for it. */
export const qualityName = (q: string | undefined): string => (q === undefined || q === "source" ? SOURCE_QUALITY : q);

type Get = (url: string) => Promise<{ status: number; text: string }>;

export const httpGet =
  (timeoutMs: number): Get =>
  async (url) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  };

/** The playable playlist of `quality` beside the source playlist at `cdnUrl`; a clear error naming those that exist when it is not there. */
export async function renditionPlaylist(
  cdnUrl: string | null,
  quality: string,
  get: Get,
): Promise<{ url: string; text: string }> {
  if (cdnUrl === null || !SOURCE_PATH.test(cdnUrl))
    throw new CommandError(
      `the VOD's CDN address is not known, so only its source quality can be downloaded (leave out --quality)`,
    );
  const urlOf = (q: string) => cdnUrl.replace(SOURCE_PATH, `/${q}/index-dvr.m3u8`);
  const url = urlOf(quality);
  const answer = await get(url).catch((err: unknown) => ({ status: 0, text: (err as Error).message }));
  if (answer.status === 200) {
    try {
      return { url, text: processPlaylist(answer.text, url).text };
    } catch (err) {
      if (err instanceof PlaylistRefused) throw new CommandError(`the ${quality} playlist was refused: ${err.message}`);
      throw err;
    }
  }
  if (answer.status === 0) throw new CommandError(`the ${quality} playlist could not be fetched: ${answer.text}`);
  const there = await Promise.all(
    VOD_QUALITIES.map(async (q) => ((await get(urlOf(q)).catch(() => ({ status: 0 }))).status === 200 ? q : null)),
  );
  const names = there.filter((q): q is string => q !== null).map((q) => (q === SOURCE_QUALITY ? `${q} (source)` : q));
  throw new UsageError(
    `this VOD has no ${quality} rendition (HTTP ${answer.status}); it has: ${names.length ? names.join(", ") : "none answering now"}`,
  );
}
