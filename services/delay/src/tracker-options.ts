import type { MuteTiming } from "./release-time.ts";

export interface TrackerOptions extends MuteTiming {
  /** Absent from complete sweeps this long after the last sighting: ended. */
  endAfterMs: number;
  /** Sweeps counted at once per VOD (redelivery dedup); a marker further behind its snapshots than this is not waited for. */
  recentSweeps: number;
  /** Released VODs are remembered this long (late or redelivered sightings must not revive them). */
  releasedRetentionMs: number;
  /** Only VODs whose viewers reached this are released; the others are tracked, then forgotten. */
  minViewers: number;
  /** The snapshot partition whose state this tracker holds (its progress and sweep records name it). */
  partition?: number;
}

export interface TrackerCounters {
  /** Snapshots of a VOD older than the streamer's newest: ignored. */
  staleSnapshots: number;
  /** Redelivered or replayed sightings of an already released VOD: ignored. */
  afterRelease: number;
  /** Ended VODs seen again before release. */
  revived: number;
  /** Released VODs seen live again (they had not ended): tracked again, released again at their real end. */
  revivedAfterRelease: number;
  /** Fetch results saying the playlist was still live (no ENDLIST): the VOD is tracked again. */
  liveResults: number;
  /** `live` results that changed nothing (redelivered, or about a VOD no longer tracked). */
  liveResultsIgnored: number;
  endedAbsent: number;
  endedRestart: number;
  /** Ended VODs that never reached `minViewers`: forgotten at their release time, never released. */
  forgottenUnderMin: number;
  sweepsEvaluated: number;
  /** Complete sweeps given up on: not all their snapshots were handled by this process (DLQ, or a restart). */
  sweepsAbandoned: number;
  /** Markers that cannot be matched with this partition's snapshots (version 1, or another partition's): ignored. */
  markersIgnored: number;
}

export function emptyCounters(): TrackerCounters {
  return {
    staleSnapshots: 0,
    afterRelease: 0,
    revived: 0,
    revivedAfterRelease: 0,
    liveResults: 0,
    liveResultsIgnored: 0,
    endedAbsent: 0,
    endedRestart: 0,
    forgottenUnderMin: 0,
    sweepsEvaluated: 0,
    sweepsAbandoned: 0,
    markersIgnored: 0,
  };
}
