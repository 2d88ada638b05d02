import { LIVE_VOD_DOMAINS, type TimestampVariant } from "@vod/twitch";

/** Probabilities and distributions of the random population; all overridable by a scenario. */
export interface WorldRates {
  /** Live sessions are log-normal around this median. */
  medianLiveMs: number;
  liveSigma: number;
  minLiveMs: number;
  maxLiveMs: number;
  /** Offline gaps are exponential with this mean; with the live mean this sets the share of streamers live. */
  meanGapMs: number;
  /** Chance that a stream ends and restarts within minutes. */
  restart: number;
  /** Of restarts, the share that get the same stream id again (their path ts is the seconds field). */
  restartSameId: number;
  restartGapMinMs: number;
  restartGapMaxMs: number;
  /** Chance that a VOD's path uses the start time minus one second. */
  minus1: number;
  /** Chance that a VOD lands on another domain than its streamer's usual one. */
  otherDomain: number;
  /** Streamers who never save VODs, and single VODs that are not saved anyway. */
  noSaveStreamer: number;
  neverSaved: number;
  /** VODs deleted some time after their end. */
  deleted: number;
  deleteAfterMinMs: number;
  deleteAfterMaxMs: number;
  /** Streamers whose VODs are not public (not listed), and whose archives are for subscribers. */
  hidden: number;
  subOnly: number;
  /** VODs with muted audio after the mute run. */
  muted: number;
  /** Pareto shape of streamer popularity: smaller is heavier-tailed. */
  viewerAlpha: number;
  maxViewers: number;
  /** Spread of the per-tick multiplicative noise on viewer counts. */
  viewerNoise: number;
  /** Random streamers whose streams have no category (game null). */
  noCategory: number;
}

export const DEFAULT_RATES: WorldRates = {
  medianLiveMs: 2.5 * 3_600_000,
  liveSigma: 0.7,
  minLiveMs: 3 * 60_000,
  maxLiveMs: 24 * 3_600_000,
  meanGapMs: 3.2 * 3_600_000,
  restart: 0.05,
  restartSameId: 0.5,
  restartGapMinMs: 10_000,
  restartGapMaxMs: 180_000,
  minus1: 0.1,
  otherDomain: 0.05,
  noSaveStreamer: 0.03,
  neverSaved: 0.01,
  deleted: 0.03,
  deleteAfterMinMs: 60_000,
  deleteAfterMaxMs: 6 * 3_600_000,
  hidden: 0.08,
  subOnly: 0.1,
  muted: 0.25,
  viewerAlpha: 0.95,
  maxViewers: 300_000,
  viewerNoise: 0.25,
  noCategory: 0.01,
};

/**
 * Twitch's shape, where DEFAULT_RATES keeps the older, gentler world that many tests were written
 * against: used by the benchmarks, the demo and the soak. Where each number comes from is in the README.
 */
export const REALISTIC_RATES: WorldRates = {
  ...DEFAULT_RATES,
  // Viewer shape: P(popularity >= k) = (k + 1)^-alpha, so 6^-0.65 = 31% at 5 or more and
  // 11^-0.65 = 21% at 10 or more (a little less once new
  // streams ramp up), as on Twitch at peak (README, "The random world").
  viewerAlpha: 0.65,
  maxViewers: 300_000,
  // Twitch's counts move by a few percent a minute, not by a quarter.
  viewerNoise: 0.05,
  noCategory: 0.01,
};

/** A scripted session. Times are Unix ms; a scenario file resolves offsets and ISO strings first. */
export interface SessionSpec {
  startMs: number;
  /** Omit for a stream that runs until ended through the admin API. */
  durationMs?: number;
  /** Reuse the previous session's stream id (a restart); the path ts becomes the seconds field. */
  sameStreamId?: boolean;
  streamId?: string;
  variant?: TimestampVariant;
  domain?: string;
  saved?: boolean;
  /** Delete the VOD this long after its end. */
  deleteAfterMs?: number;
  /** Half-open segment ranges [from, to) that the mute run renames to `N-muted.ts`. */
  muted?: [number, number][];
  title?: string;
}

export interface StreamerSpec {
  login: string;
  id?: string;
  displayName?: string;
  /** Constant viewer count (scripted streamers have no noise, so tests can predict the order). */
  viewers: number;
  domain?: string;
  hidden?: boolean;
  subOnly?: boolean;
  savesVods?: boolean;
  language?: string;
  game?: string;
  sessions?: SessionSpec[];
}

export interface WorldOptions {
  seed: number;
  /** About this many random streams are live at any time. */
  streams: number;
  muteIntervalMs: number;
  /** Viewer counts change once per tick; the viewer-sorted index is rebuilt at most once per tick. */
  viewerTickMs: number;
  /** Ended VODs are forgotten this long after their end (bounds memory on long runs). */
  retainMs: number;
  /** Domains VODs are stored on. */
  domains: readonly string[];
  rates: WorldRates;
  streamers: StreamerSpec[];
}

export const DEFAULT_WORLD: Omit<WorldOptions, "seed" | "streams"> = {
  muteIntervalMs: 3_600_000,
  viewerTickMs: 60_000,
  retainMs: 12 * 3_600_000,
  domains: LIVE_VOD_DOMAINS,
  rates: DEFAULT_RATES,
  streamers: [],
};
