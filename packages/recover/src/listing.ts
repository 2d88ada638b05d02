import { isPlaylist } from "@vod/twitch";
import { finish, type Recovered } from "./result.ts";
import { usable, type Known, type RecoverRun } from "./run.ts";
import { listedVideoOf, listingByLogin } from "./sources.ts";

/**
 * Source 3, the streamer's GraphQL listing: its seekPreviewsURL names domain and path. The
 * playlist when that path answers; otherwise the listing (in `known.listing`) still tells the CDN
 * search which domains the streamer's VODs are on.
 */
export async function fromListing(run: RecoverRun, known: Known, login: string): Promise<Recovered | null> {
  const { o, client, signal, note, baseUrl } = run;
  if (!o.gql) return null;
  run.sources.push("listing");
  const listing = await listingByLogin(o.gql, login, signal).catch((err: unknown) => {
    note(`GQL listing failed (${(err as Error).message}); searching the CDN without it`);
    return null;
  });
  known.listing = listing;
  if (!listing) return null;
  known.streamerId ??= listing.streamerId;
  const listed = listedVideoOf(listing.listing, known.streamId, known.exact ?? known.time);
  if (!listed || !usable(listed.domain, o)) return null;
  const path = `${listed.key}/chunked/index-dvr.m3u8`;
  const answer = await client.get(baseUrl(listed.domain) + path, signal);
  if (answer?.kind === "ok" && isPlaylist(answer.body)) {
    // The path's ts may be a second early or the seconds field; the listing's createdAt is the start.
    return await finish(
      run,
      known.streamId,
      { url: baseUrl(listed.domain) + path, startMs: listed.createdAtMs ?? listed.ts * 1000, login },
      answer.body,
      "listing",
    );
  }
  note(
    `the listing names ${listed.domain}/${listed.key}, which answered ${answer?.kind === "missing" ? `HTTP ${answer.status}` : answer?.kind === "transient" ? answer.error : answer ? "not a playlist" : "nothing"}; searching`,
  );
  return null;
}
