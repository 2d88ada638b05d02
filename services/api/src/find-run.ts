import type { SpareTurns } from "@vod/cdn-budget";
import type { Db } from "@vod/db";
import {
  describeTime,
  InputError,
  listedStreamAt,
  NotFound,
  recover,
  type Recovered,
  type RecoverOptions,
  type Target,
} from "@vod/recover";
import type { GqlBatchClient } from "@vod/twitch";
import type { FindAsk } from "./find-input.ts";
import type { FindJob, FindResult } from "./find-jobs.ts";
import { describeWait } from "./find-limits.ts";

/** What every search shares: the CDN settings, the fetchers' budget, GraphQL and the archive. */
export interface FindRunDeps {
  recover: Pick<RecoverOptions, "domains" | "urlTemplate" | "discoverable" | "scoreHalfLifeMs" | "cdn">;
  /** Segments checked after a hit on the CDN; 0: none. */
  checkSegments: number;
  spare: SpareTurns;
  gql: GqlBatchClient;
  /** The archive, through the API's read-only login. */
  db: Db;
  now: () => number;
  /** Whether the login asked to be left out (a takedown). */
  takenDown: (login: string) => Promise<boolean>;
}

/**
 * Runs one search to its end: `recover` through the fetchers' budget (spare turns), its notes and
 * requests as progress, then `found` or `failed`. Never throws: every end is an event.
 */
export async function runFind(job: FindJob, ask: FindAsk, d: FindRunDeps): Promise<void> {
  const signal = job.abort.signal;
  const options: RecoverOptions = {
    ...d.recover,
    apiUrl: "",
    db: d.db,
    // vod_api may read the archive only, not the fetcher's domain knowledge.
    domainKnowledge: false,
    gql: d.gql,
    ...(d.checkSegments > 0 ? { checkSegments: d.checkSegments } : {}),
    note: (message) => job.progress(message),
    now: d.now,
    signal,
    cdn: {
      ...d.recover.cdn,
      turn: (s) =>
        d.spare.take(s, (ms) =>
          job.progress(
            `the archive's fetchers are using the CDN budget; this search's next turn in ${describeWait(Math.ceil(ms / 1000))}`,
          ),
        ),
      onSent: (n) => {
        job.requests = n;
        job.progress(null);
      },
    },
  };
  try {
    const { target, time } = await targetOf(job, ask, d, signal);
    const found = await recover(target, time, options);
    // A video link or a channel only names its streamer once found: one who asked to be left out gets nothing.
    if (await d.takenDown(found.login)) throw new InputError(`${found.login} asked to be left out of this archive`);
    if (found.source !== "archive") job.playlist = found.playlist;
    job.emit({ type: "found", result: resultOf(job, found) });
  } catch (err) {
    const message =
      err instanceof NotFound || err instanceof InputError
        ? err.message.replace(/--(time|login|stream-id|tz)\b/g, "$1")
        : signal.aborted
          ? `cancelled (${(signal.reason as Error)?.message ?? "by the client"})`
          : `the search failed: ${(err as Error).message}`;
    job.emit({ type: "failed", message, requests: job.requests, seconds: job.seconds() });
  }
}

/** A channel and a time name no stream id: the channel's listing may (GraphQL, no CDN request). */
async function targetOf(
  job: FindJob,
  ask: FindAsk,
  d: FindRunDeps,
  signal: AbortSignal,
): Promise<{ target: Target; time: FindAsk["time"] }> {
  if (ask.kind === "video") return { target: { from: "twitch", videoId: ask.videoId, ...login(ask) }, time: ask.time };
  if (ask.kind === "stream")
    return { target: { from: "flags", streamId: ask.streamId, ...login(ask) }, time: ask.time };
  job.progress(`asking ${ask.login}'s video listing which stream started at ${describeTime(ask.time)}`);
  const listed = await listedStreamAt(d.gql, ask.login, ask.time, signal).catch(() => null);
  if (!listed)
    throw new NotFound(
      `${ask.login}'s listing shows no video that started at ${describeTime(ask.time)} (Twitch lists only the videos it still shows), and our archive has none: paste the stream's TwitchTracker, StreamsCharts or SullyGnome link, which names its stream id`,
      { sources: ["archive", "listing"], search: null, requests: 0, seconds: job.seconds() },
    );
  job.progress(`the listing names stream ${listed.streamId}`);
  return { target: { from: "flags", login: ask.login, streamId: listed.streamId }, time: listed.time };
}

const login = (ask: { login?: string }) => (ask.login ? { login: ask.login } : {});

function resultOf(job: FindJob, r: Recovered): FindResult {
  return {
    source: r.source,
    login: r.login,
    streamId: r.streamId,
    startTime: r.startTime,
    playlist: r.source === "archive" ? r.url : `/v1/finds/${job.id}/index.m3u8`,
    cdnUrl: r.cdnUrl,
    live: r.live,
    requests: r.requests,
    seconds: r.seconds,
    segments: r.segments,
    checkedSegments: r.checkedSegments,
    deadSegments: r.deadSegments,
  };
}
