// The pipeline's messages with plausible defaults: a test names only the fields it is about.
import type { StreamSnapshot, VodFetchResult } from "@vod/kafka";

export const streamSnapshot = (over: Partial<StreamSnapshot> = {}): StreamSnapshot => ({
  v: 1,
  sweepId: "s",
  observedAt: "2026-05-15T15:00:00.000Z",
  streamId: "1",
  startTime: "2026-05-15T14:51:32.123Z",
  streamerId: "7",
  login: "someone",
  viewers: 10,
  title: "first",
  gameId: "1",
  gameName: "Chess",
  language: "en",
  mature: false,
  ...over,
});

/** A snapshot as GQL gives it for a stream with no title, game, language or rating. */
export const bareSnapshot = (over: Partial<StreamSnapshot> = {}): StreamSnapshot =>
  streamSnapshot({ title: null, gameId: null, gameName: null, language: null, mature: null, ...over });

/** A failed fetch of `streamSnapshot()`'s VOD. */
export const fetchResult = (over: Partial<VodFetchResult> = {}): VodFetchResult => ({
  v: 1,
  streamId: "1",
  startTime: "2026-05-15T14:51:32.123Z",
  streamerId: "7",
  login: "someone",
  firstSeen: "2026-05-15T15:00:00.000Z",
  lastSeen: "2026-05-15T16:00:00.000Z",
  maxViewers: 50,
  outcome: "failed",
  fetchedAt: "2026-05-15T17:10:00.000Z",
  requests: 3,
  found: null,
  error: "timeout",
  ...over,
});
