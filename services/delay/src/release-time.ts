export interface MuteTiming {
  /** Mute runs start on multiples of this since the epoch (top of the hour for 1h). */
  muteIntervalMs: number;
  /** The mute run awaited starts at least this long after the latest moment the stream may have been live. */
  muteMinGapMs: number;
  /** Safety margin after that run. */
  muteMarginMs: number;
}

/**
 * The first mute boundary at least `muteMinGapMs` after `endMs`, plus the margin. `endMs` is the latest
 * the stream may have been live: its last sighting, or later (the tracker passes the later of the last
 * sighting and the first complete sweep that missed it less `muteMinGapMs`; for a restart, the new start).
 */
export function releaseTime(endMs: number, t: MuteTiming): number {
  const earliest = endMs + t.muteMinGapMs;
  const boundary = Math.ceil(earliest / t.muteIntervalMs) * t.muteIntervalMs;
  return boundary + t.muteMarginMs;
}
