/** A VOD's key in the state topic: `vod:<streamId>:<startTime>` (the start time holds colons itself). */
export function vodKeyOf(streamId: string, startTime: string): string {
  return `vod:${streamId}:${startTime}`;
}

/** The stream id in a VOD key. */
export function streamIdOfKey(key: string): string {
  return key.slice(4, key.indexOf(":", 4));
}

/** The start time in a VOD key, as written. */
export function startTimeOfKey(key: string): string {
  return key.slice(key.indexOf(":", 4) + 1);
}

/** The start time (epoch ms) in a VOD key. */
export function startOfKey(key: string): number {
  return Date.parse(startTimeOfKey(key));
}

/** State key of a partition's record of a pending sweep. */
export function sweepKeyOf(sweepId: string, partition: number): string {
  return `sweep:${sweepId}:${partition}`;
}

/** The sweep id in a sweep record's key, or undefined for any other key. */
export function sweepIdOfKey(key: string): string | undefined {
  return /^sweep:(.+):\d+$/.exec(key)?.[1];
}
