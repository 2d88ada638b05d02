// VODs as the pipeline's messages name them: the key tests index results by, and the fetch request
// the delay would release for a VOD the simulator knows.
import { vodFetchResult, type VodFetchRequest, type VodFetchResult } from "@vod/kafka";
import type { VodTruth } from "@vod/twitch-sim";
import type { RawRecord } from "./kafka.ts";

/** `streamId@start epoch ms`: one key whichever ISO spelling (or Date) the start time comes in. */
export const vodKey = (v: { streamId: string; startTime: string | Date }): string =>
  `${v.streamId}@${new Date(v.startTime).getTime()}`;

/** The fetch request the delay would release for `v` (seen from its start to its end). */
export const vodRequest = (v: VodTruth, over: Partial<VodFetchRequest> = {}): VodFetchRequest => ({
  v: 1,
  streamId: v.streamId,
  startTime: v.startTime,
  streamerId: v.streamerId,
  login: v.login,
  firstSeen: v.startTime,
  lastSeen: v.endedAt ?? v.startTime,
  maxViewers: 100,
  releaseAt: v.endedAt ?? v.startTime,
  ...over,
});

/** The fetch results among raw records, parsed. */
export const parseResults = (records: RawRecord[]): VodFetchResult[] =>
  records.map((r) => vodFetchResult.parse(JSON.parse(r.value!)));

/** The fetch results among raw records by VOD key (a later one for the same VOD wins). */
export const resultsByKey = (records: RawRecord[]): Map<string, VodFetchResult> =>
  new Map(parseResults(records).map((r) => [vodKey(r), r]));
