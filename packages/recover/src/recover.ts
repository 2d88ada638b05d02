import type { Db } from "@vod/db";
import { hasEndList, isPlaylist, latestStartMs, processPlaylist, type GqlBatchClient } from "@vod/twitch";
import { CdnClient, type CdnClientOptions } from "./http.ts";
import { describeTime, InputError, type StartTime, type Target } from "./input.ts";
import { searchCandidates } from "./order.ts";
import { searchCdn, type SearchTried } from "./search.ts";
import { checkSegments } from "./segments.ts";
import {
  archivedVods,
  learned,
  listedVideoOf,
  listingByLogin,
  streamerIdOf,
  videoById,
  type ArchivedVod,
  type StreamerListing,
} from "./sources.ts";

export type RecoverSource = "archive" | "seen" | "listing" | "cdn";

export interface RecoverOptions {
  /** Configured CDN domains; learned ones are added after them. */
  domains: readonly string[];
  /** A domain's root URL, `{domain}` replaced. */
  urlTemplate: string;
  /** Hosts a seekPreviewsURL may teach; anything else is never requested. */
  discoverable: RegExp;
  /** Base of the API's playlist route, for VODs in our archive. */
  apiUrl: string;
  /** The fetcher's half-life for domain scores. */
  scoreHalfLifeMs: number;
  cdn: Omit<CdnClientOptions, "onBudgetSpent">;
  /** Our archive; absent: skipped. */
  db?: Db;
  /** GQL for the streamer's listing; absent: skipped. */
  gql?: GqlBatchClient;
  /** `"sample"`, `"all"` or a count: segments checked after a hit; absent: none. */
  checkSegments?: "sample" | "all" | number;
  /** Progress for a person waiting (budget spent, sources skipped). */
  note?: (message: string) => void;
  now?: () => number;
  signal?: AbortSignal;
}

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

/**
 * Finds one VOD, cheapest source first: our archive (found: its stored playlist and API link), a
 * VOD we saw live but did not find (its exact start time), the streamer's GraphQL listing (the
 * seekPreviewsURL names domain and path), then the CDN searched in likelihood order with the
 * domains learned. The same function serves the CLI and, later, the API.
 */
export async function recover(asked: Target, timeGiven: StartTime | undefined, o: RecoverOptions): Promise<Recovered> {
  let target = asked;
  let time = timeGiven;
  const now = o.now ?? Date.now;
  const startedAt = performance.now();
  const note = o.note ?? (() => undefined);
  const signal = o.signal ?? new AbortController().signal;
  const client = new CdnClient({
    ...o.cdn,
    onBudgetSpent: (ms) =>
      note(
        `politeness budget spent (${o.cdn.budget} requests per ${Math.round(o.cdn.windowMs / 1000)} s); waiting ${Math.ceil(ms / 1000)} s`,
      ),
  });
  const baseUrl = (domain: string) => o.urlTemplate.replaceAll("{domain}", domain);
  const sources: string[] = [];
  const elapsed = () => Math.round(performance.now() - startedAt) / 1000;
  try {
    // A Twitch video URL: only GQL can say which stream it was, and only while Twitch still shows the video.
    if (target.videoId !== undefined && target.streamId === undefined) {
      const video = o.gql
        ? await videoById(o.gql, target.videoId, signal).catch((err: unknown) => {
            note(`GQL did not answer for video ${target.videoId} (${(err as Error).message})`);
            return null;
          })
        : null;
      if (!video || !usable(video.domain, o)) {
        throw new InputError(
          `Twitch no longer shows video ${target.videoId} (deleted or hidden), and a video id names no stream id or start time; ` +
            `give the stream's TwitchTracker, StreamsCharts or SullyGnome URL, or --login and --stream-id with --time`,
        );
      }
      sources.push("video");
      target = { ...target, login: video.login, streamId: video.streamId };
      const url = baseUrl(video.domain) + `${video.key}/chunked/index-dvr.m3u8`;
      const answer = await client.get(url, signal);
      if (answer?.kind === "ok" && isPlaylist(answer.body))
        return await finish(
          { url, startMs: video.startMs ?? video.ts * 1000, login: video.login },
          answer.body,
          "listing",
        );
      note(
        `video ${target.videoId} names ${video.domain}/${video.key}, which did not answer with a playlist; searching`,
      );
      time ??= { ms: video.startMs ?? video.ts * 1000, precision: "second" };
    }
    const streamId = target.streamId!;
    let login = target.login;
    let exact: StartTime | undefined = time?.precision === "second" ? time : undefined;
    let streamerId: string | undefined;
    let seenLive = false;

    // 1, 2: our archive. Unreadable (not migrated, down): the other sources still work.
    let db = o.db;
    const rowsOf = async (): Promise<ArchivedVod[] | null> => {
      try {
        return await archivedVods(db!, streamId);
      } catch (err) {
        const e = err as Error & { cause?: Error };
        note(`our archive could not be read (${(e.cause ?? e).message.split("\n")[0]}); going on without it`);
        db = undefined;
        return null;
      }
    };
    const archived = db ? await rowsOf() : null;
    if (db && archived) {
      sources.push("archive");
      const rows = archived.filter((r) => time === undefined || near(r.startMs, time));
      const found = rows.find((r) => r.outcome === "found" && r.playlist !== null);
      if (found) return await finish(fromArchive(found, o.apiUrl), found.playlist!, "archive");
      const seen = rows[0];
      if (seen) {
        sources.push(`seen live (${new Date(seen.startMs).toISOString()}, ${seen.outcome ?? "not fetched yet"})`);
        login ??= seen.login;
        streamerId = seen.streamerId;
        exact = { ms: seen.startMs, precision: "second" };
        seenLive = true;
      } else if (login) streamerId = await streamerIdOf(db, login);
    }
    if (login === undefined)
      throw new InputError(
        `understood stream id ${streamId}; missing: the streamer's login (--login), which our archive does not know`,
      );

    // 3: the streamer's listing.
    let listing: StreamerListing | null = null;
    if (o.gql) {
      sources.push("listing");
      listing = await listingByLogin(o.gql, login, signal).catch((err: unknown) => {
        note(`GQL listing failed (${(err as Error).message}); searching the CDN without it`);
        return null;
      });
      if (listing) {
        streamerId ??= listing.streamerId;
        const listed = listedVideoOf(listing.listing, streamId, exact ?? time);
        if (listed && usable(listed.domain, o)) {
          const path = `${listed.key}/chunked/index-dvr.m3u8`;
          const answer = await client.get(baseUrl(listed.domain) + path, signal);
          if (answer?.kind === "ok" && isPlaylist(answer.body)) {
            // The path's ts may be a second early or the seconds field; the listing's createdAt is the start.
            return await finish(
              { url: baseUrl(listed.domain) + path, startMs: listed.createdAtMs ?? listed.ts * 1000, login },
              answer.body,
              "listing",
            );
          }
          note(
            `the listing names ${listed.domain}/${listed.key}, which answered ${answer?.kind === "missing" ? `HTTP ${answer.status}` : answer?.kind === "transient" ? answer.error : answer ? "not a playlist" : "nothing"}; searching`,
          );
        }
      }
    }

    // 4: the CDN.
    const when = exact ?? time;
    if (when === undefined) {
      throw new NotFound(
        `stream ${streamId} of ${login} is not in our archive${o.gql ? " nor in its GraphQL listing" : ""}; a CDN search needs the start time: give --time (the tracker page shows it)`,
        { sources, search: null, requests: client.requests, seconds: elapsed() },
      );
    }
    const know = db
      ? await learned(db, streamerId, now(), o.scoreHalfLifeMs)
      : { streamerDomain: undefined, scores: new Map<string, number>(), discovered: [] };
    const listedDomains = (listing?.listing.videos ?? []).map((v) => v.domain).filter((d) => usable(d, o));
    const domains = [...new Set([...o.domains, ...know.discovered.filter((d) => usable(d, o)), ...listedDomains])];
    // The listing is fresher than what the fetcher last saw: its newest VOD's domain is the streamer's now.
    const streamerDomain = listedDomains[0] ?? know.streamerDomain;
    const candidates = searchCandidates(login, streamId, when, {
      domains,
      streamerDomain,
      score: (d) => know.scores.get(d) ?? 0,
    });
    sources.push(
      `cdn (${describeTime(when)}, ${domains.length} domains${streamerDomain ? `, ${streamerDomain} first` : ""})`,
    );
    const search = await searchCdn(candidates, client, { baseUrl, concurrency: o.cdn.concurrency, signal });
    const tried = search.tried;
    let hit = search.hit;
    if (!hit) {
      const failing = Object.entries(tried.failing).map(([d, e]) => `${d} (${e})`);
      throw new NotFound(
        `not found: ${login} stream ${streamId} at ${describeTime(when)}; tried ${sources.join(", ")}: ` +
          `${tried.requests} CDN requests, ${tried.missed.given} forms of the time given, ${tried.missed["seconds-field"]} seconds-field forms` +
          (when.precision === "minute" ? `, ${tried.missed.neighbour} in the minutes either side` : "") +
          (failing.length > 0
            ? `; these domains kept failing, so the VOD may still be there: ${failing.join(", ")}`
            : ""),
        { sources, search: tried, requests: client.requests, seconds: elapsed() },
      );
    }
    if (when.precision === "minute" && hit.candidate.band === "seconds-field") {
      // Any same-id restart's path is a seconds field (0–59), so the path cannot tell two restarts apart by
      // the minute. Every other seconds-field form on that domain is tried; of the playlists found, the one
      // that says (by its own tags) it could have started in the minute given is the answer.
      const first = hit;
      const hits = [first];
      let rest = candidates.filter(
        (c) =>
          c.band === "seconds-field" &&
          c.domain === first.candidate.domain &&
          c !== first.candidate &&
          !search.ruledOut.has(c),
      );
      for (;;) {
        const more = await searchCdn(rest, client, { baseUrl, concurrency: o.cdn.concurrency, signal });
        const found = more.hit;
        if (!found) break;
        hits.push(found);
        rest = rest.filter((c) => c !== found.candidate && !more.ruledOut.has(c));
      }
      if (hits.length > 1) {
        const fits = hits.filter((h) => couldStartInMinute(h.body, when.ms));
        const list = hits.map((h) => `ts ${h.candidate.ts}: ${h.url}`).join("; ");
        if (fits.length !== 1) {
          throw new NotFound(
            `ambiguous: ${login} stream ${streamId} restarted under the same stream id, and ${fits.length === 0 ? "none" : fits.length} of its ` +
              `${hits.length} VODs in the seconds-field form could have started at ${describeTime(when)} by their playlists' ` +
              `times (${list}); give the start time to the second`,
            { sources, search: tried, requests: client.requests, seconds: elapsed() },
          );
        }
        hit = fits[0]!;
        note(
          `${login} stream ${streamId} restarted under the same stream id (${list}); only ts ${hit.candidate.ts} ` +
            `could have started at ${describeTime(when)} by its playlist's times`,
        );
      }
    }
    return await finish(
      { url: hit.url, startMs: startOf(hit.candidate, when), login },
      hit.body,
      seenLive ? "seen" : "cdn",
    );
  } finally {
    await client.close();
  }

  async function finish(
    at: { url: string; startMs: number; login: string; cdnUrl?: string | null },
    body: string,
    source: RecoverSource,
  ): Promise<Recovered> {
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
      streamId: target.streamId!,
      startTime: new Date(at.startMs).toISOString().replace(".000Z", "Z"),
      url: at.url,
      cdnUrl: at.cdnUrl === undefined ? at.url : at.cdnUrl,
      playlist: text,
      live: !hasEndList(body),
      requests: client.requests,
      seconds: elapsed(),
      segments: made.segments,
      checkedSegments: checked,
      deadSegments: dead,
    };
  }
}

function fromArchive(
  row: ArchivedVod,
  apiUrl: string,
): { url: string; startMs: number; login: string; cdnUrl: string | null } {
  return {
    url: `${apiUrl.replace(/\/+$/, "")}/m3u8/${row.streamId}/${Math.floor(row.startMs / 1000)}/index.m3u8`,
    startMs: row.startMs,
    login: row.login,
    cdnUrl: row.url,
  };
}

/** A stored start time matches the time given: within its second or minute, or the minutes either side. */
function near(startMs: number, time: StartTime): boolean {
  const span = time.precision === "second" ? 2_000 : 60_000;
  return startMs >= time.ms - span && startMs < time.ms + span + (time.precision === "minute" ? 60_000 : 0);
}

function usable(domain: string, o: Pick<RecoverOptions, "domains" | "discoverable">): boolean {
  return o.domains.includes(domain) || o.discoverable.test(domain);
}

/** The start time a hit's path implies: its ts is the start, one second less, or the seconds field of the start. */
function startOf(c: { variant: string; ts: number }, when: StartTime): number {
  if (c.variant === "start") return c.ts * 1000;
  if (c.variant === "minus1") return (c.ts + 1) * 1000;
  return when.precision === "second" ? when.ms : when.ms - (when.ms % 60_000) + c.ts * 1000;
}

/**
 * A playlist is written when its VOD ends and rewritten by the mute run, on the first hour after the end
 * (FACTS.md), so its tags put the VOD's start between `latestStart − 1 h` (and a few minutes for the run)
 * and `latestStart`. A playlist without the tags could be any restart.
 */
const WRITTEN_WITHIN_MS = 65 * 60_000;
function couldStartInMinute(body: string, minuteMs: number): boolean {
  const latest = latestStartMs(body);
  if (latest === null) return true;
  return latest >= minuteMs && latest < minuteMs + 60_000 + WRITTEN_WITHIN_MS;
}
