export interface MuteTiming {
  /** Mute runs start on multiples of this since the epoch (top of the hour for 1h). */
  muteIntervalMs: number;
  /** The mute run must start at least this long after the last sighting. */
  muteMinGapMs: number;
  /** Safety margin after that run. */
  muteMarginMs: number;
}

/** The first mute boundary at least `muteMinGapMs` after the last sighting, plus the margin. */
export function releaseTime(lastSeenMs: number, t: MuteTiming): number {
  const earliest = lastSeenMs + t.muteMinGapMs;
  const boundary = Math.ceil(earliest / t.muteIntervalMs) * t.muteIntervalMs;
  return boundary + t.muteMarginMs;
}
