// Test helpers for the commands that find VODs: settings pointing at the simulator, and a VOD put
// in our archive as the fetcher stores it.
import { gzipSync } from "node:zlib";
import { vods, type Db } from "@vod/db";
import { processPlaylist } from "@vod/twitch";
import type { Simulator, VodTruth } from "@vod/twitch-sim";

/** `vods recover`/`vods download` settings for the simulator and a test database; short timeouts. */
export const simRecoverEnv = (
  sim: Simulator,
  databaseUrl: string,
  domains: readonly string[],
): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  CDN_DOMAINS: domains.join(","),
  CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
  GQL_ENDPOINT: sim.gqlUrl,
  GQL_CLIENT_ID: "test",
  CONNECT_TIMEOUT: "1s",
  HEADERS_TIMEOUT: "1s",
  BODY_TIMEOUT: "1s",
  REQUEST_TIMEOUT: "2s",
});

/** Archives `v` as found, with `playlist` (playable) as its stored copy. */
export async function archiveFound(db: Db, sim: Simulator, v: VodTruth, playlist: string): Promise<void> {
  await db.insert(vods).values({
    streamId: Number(v.streamId),
    startTime: new Date(v.startTime),
    streamerId: Number(v.streamerId),
    login: v.login,
    firstSeen: new Date(v.startTime),
    lastSeen: new Date(v.endedAt!),
    maxViewers: 100,
    outcome: "found",
    fetchedAt: new Date(sim.clock.now()),
    domain: v.domain,
    url: sim.cdnBaseUrl(v.domain) + v.path,
    segmentCount: processPlaylist(playlist, "http://x/").segments,
    playlistGz: gzipSync(playlist),
  });
}
