import type { DelayVod, StreamSnapshot, VodFetchRequest } from "@vod/kafka";

/** The record of a VOD first seen in `s` (`seenAt`: its sighting time, interned). */
export function newVod(s: StreamSnapshot, seenAt: string): DelayVod {
  return {
    v: 1,
    kind: "vod",
    streamId: s.streamId,
    startTime: s.startTime,
    streamerId: s.streamerId,
    login: s.login,
    firstSeen: seenAt,
    lastSeen: seenAt,
    maxViewers: s.viewers,
    status: "live",
    endedAt: null,
    endReason: null,
    releaseAt: null,
    releasedAt: null,
  };
}

/** Live again: whatever ended or released it is undone. */
export function relive(vod: DelayVod): void {
  delete vod.seenExact;
  delete vod.missedAt;
  vod.status = "live";
  vod.endedAt = null;
  vod.endReason = null;
  vod.releaseAt = null;
  vod.releasedAt = null;
}

/** The fetch request of an ended VOD (its release time set). */
export function requestOf(vod: DelayVod): VodFetchRequest {
  return {
    v: 1,
    streamId: vod.streamId,
    startTime: vod.startTime,
    streamerId: vod.streamerId,
    login: vod.login,
    firstSeen: vod.firstSeen,
    lastSeen: vod.lastSeen,
    maxViewers: vod.maxViewers,
    releaseAt: vod.releaseAt!,
    restart: vod.restart ?? false,
    ...(vod.liveResults ? { liveResults: vod.liveResults } : {}),
  };
}
