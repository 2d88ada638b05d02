import type { Db } from "@vod/db";
import type { GqlBatchClient } from "@vod/twitch";
import { fromArchive } from "./archive.ts";
import { fromCdn } from "./cdn.ts";
import type { CdnClientOptions } from "./http.ts";
import { InputError, type StartTime, type Target } from "./input.ts";
import { fromListing } from "./listing.ts";
import type { Recovered } from "./result.ts";
import { startRun, type Known } from "./run.ts";
import { fromVideo } from "./video.ts";

export { NotFound, type Recovered, type RecoverSource } from "./result.ts";

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
  /**
   * Whether the fetcher's domain knowledge (domain health, streamers' domains) is read from `db`
   * to order the search; default true. False for a login that may read only the archive (the API's).
   */
  domainKnowledge?: boolean;
  /** GQL for the streamer's listing; absent: skipped. */
  gql?: GqlBatchClient;
  /** `"sample"`, `"all"` or a count: segments checked after a hit; absent: none. */
  checkSegments?: "sample" | "all" | number;
  /** Progress for a person waiting (budget spent, sources skipped). */
  note?: (message: string) => void;
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * Finds one VOD, cheapest source first: our archive (found: its stored playlist and API link), a
 * VOD we saw live but did not find (its exact start time), the streamer's GraphQL listing (the
 * seekPreviewsURL names domain and path), then the CDN searched in likelihood order with the
 * domains learned. The same function serves the CLI and, later, the API.
 *
 * The steps, in that order: `fromVideo` (a Twitch video URL), `fromArchive`, `fromListing`,
 * `fromCdn`; each adds what it learned to `Known`, and `finish` makes the answer.
 */
export async function recover(asked: Target, timeGiven: StartTime | undefined, o: RecoverOptions): Promise<Recovered> {
  const run = startRun(o);
  try {
    let target = asked;
    let time = timeGiven;
    if (target.videoId !== undefined && target.streamId === undefined) {
      const video = await fromVideo(run, { ...target, videoId: target.videoId });
      if ("recovered" in video) return video.recovered;
      target = video.target;
      time ??= video.time;
    }
    const known: Known = {
      streamId: target.streamId!,
      login: target.login,
      time,
      exact: time?.precision === "second" ? time : undefined,
      streamerId: undefined,
      seenLive: false,
      db: o.db,
      listing: null,
    };

    // 1, 2: our archive.
    const archived = await fromArchive(run, known);
    if (archived) return archived;
    const login = known.login;
    if (login === undefined)
      throw new InputError(
        `understood stream id ${known.streamId}; missing: the streamer's login (--login), which our archive does not know`,
      );

    // 3: the streamer's listing.
    const listed = await fromListing(run, known, login);
    if (listed) return listed;

    // 4: the CDN.
    return await fromCdn(run, known, login);
  } finally {
    await run.client.close();
  }
}
