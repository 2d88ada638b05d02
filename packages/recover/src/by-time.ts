import type { GqlBatchClient } from "@vod/twitch";
import type { StartTime } from "./input.ts";
import { listingByLogin } from "./sources.ts";

/** The stream a channel's listing shows starting at the time given. */
export interface ListedStart {
  streamId: string;
  /** The video's start, to the second. */
  time: StartTime;
}

/**
 * A channel and a start time name no stream id; the channel's GraphQL listing may: the video whose
 * start falls within the second or minute given (a minute either side, as people round). Null when
 * the listing does not answer or shows none (Twitch lists only the videos it still shows).
 */
export async function listedStreamAt(
  gql: GqlBatchClient,
  login: string,
  time: StartTime,
  signal?: AbortSignal,
): Promise<ListedStart | null> {
  const listing = await listingByLogin(gql, login, signal);
  if (!listing) return null;
  const span = time.precision === "second" ? 60_000 : 120_000;
  const near = listing.listing.videos
    .map((v) => ({ v, ms: v.createdAtMs ?? v.ts * 1000 }))
    .filter(({ ms }) => Math.abs(ms - time.ms) <= span)
    .sort((a, b) => Math.abs(a.ms - time.ms) - Math.abs(b.ms - time.ms))[0];
  return near ? { streamId: near.v.streamId, time: { ms: near.ms, precision: "second" } } : null;
}
