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

  // Realistic-world behaviour; 0 everywhere in DEFAULT_RATES, so the older world stays as it was.
  /** Chance that one VOD lands on another domain, picked by domain popularity (`otherDomain` picks uniformly). */
  scatter: number;
  /** Chance per session that a streamer moves to another domain for good (picked by popularity), from that session on. */
  migrate: number;
  /** New streamers per day, as a share of the population; as many retire, so the population stays about stable. */
  newStreamersPerDay: number;
  /**
   * Chance that a session is a false start: a short session under the tracking threshold, restarted under the
   * same stream id, so a poller never sees the first VOD of the pair.
   */
  falseStart: number;
  falseStartMinMs: number;
  falseStartMaxMs: number;
  /** Viewers during a false start: 0 to this, constant. */
  falseStartMaxViewers: number;
  /** 1: a VOD is listed in `user.videos` from its start (RECORDING while live); 0: only a listing delay after its end. */
  listLive: number;
  /** Listing delay after the end when `listLive` is 0: log-normal around the median, clamped. */
  listDelayMedianMs: number;
  listDelaySigma: number;
  listDelayMinMs: number;
  listDelayMaxMs: number;
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
  scatter: 0,
  migrate: 0,
  newStreamersPerDay: 0,
  falseStart: 0,
  falseStartMinMs: 60_000,
  falseStartMaxMs: 8 * 60_000,
  falseStartMaxViewers: 4,
  listLive: 1,
  listDelayMedianMs: 0,
  listDelaySigma: 0,
  listDelayMinMs: 0,
  listDelayMaxMs: 0,
  noCategory: 0.01,
};

/**
 * Twitch's shape, where DEFAULT_RATES keeps the older, gentler world that many tests were written
 * against: used by the benchmarks, the demo and the soak. Where each number comes from is in the README.
 */
export const REALISTIC_RATES: WorldRates = {
  ...DEFAULT_RATES,
  // Archiving off and unsaved VODs: with deletions before the fetch, 22-25% of VODs never reach the fetcher's CDN.
  noSaveStreamer: 0.2,
  neverSaved: 0.035,
  hidden: 0.02,
  subOnly: 0.1,
  // Today's 5% of VODs off their streamer's domain, split into one-off scatter and migrations for good.
  otherDomain: 0,
  scatter: 0.03,
  migrate: 0.005,
  newStreamersPerDay: 0.044,
  falseStart: 0.01,
  listLive: 0,
  listDelayMedianMs: 3 * 60_000,
  listDelaySigma: 0.6,
  listDelayMinMs: 30_000,
  listDelayMaxMs: 15 * 60_000,
  // Viewer shape: P(popularity >= k) = (k + 1)^-alpha, so 6^-0.65 = 31% at 5 or more and
  // 11^-0.65 = 21% at 10 or more (a little less once new
  // streams ramp up), as on Twitch at peak (README, "The random world").
  viewerAlpha: 0.65,
  maxViewers: 300_000,
  // Twitch's counts move by a few percent a minute, not by a quarter.
  viewerNoise: 0.05,
  noCategory: 0.01,
};

/** A recent CloudFront host that serves some streamers' VODs but is missing from configured lists (FACTS.md). */
export const UNCONFIGURED_DOMAIN = "d1ndex63qxojbr.cloudfront.net";

/**
 * Domains the realistic world stores VODs on, most popular first (a streamer's home domain is drawn with
 * weights falling along the list). A copy, so a change to the live list in @vod/twitch does not change the world.
 */
export const REALISTIC_DOMAINS: readonly string[] = [
  "vod-secure.twitch.tv",
  "vod-metro.twitch.tv",
  "vod-pop-secure.twitch.tv",
  "d1m7jfoe9zdc1j.cloudfront.net",
  "d1mhjrowxxagfy.cloudfront.net",
  "d1ymi26ma8va5x.cloudfront.net",
  "d2nvs31859zcd8.cloudfront.net",
  "d2vjef5jvl6bfs.cloudfront.net",
  "d3vd9lfkzbru3h.cloudfront.net",
  "dgeft87wbj63p.cloudfront.net",
  "dqrpb9wgowsf5.cloudfront.net",
  "ds0h3roq6wcgc.cloudfront.net",
  "d3fi1amfgojobc.cloudfront.net",
  "d2vi6trrdongqn.cloudfront.net",
  UNCONFIGURED_DOMAIN,
];

/** What a fetcher facing the realistic world is configured with: every domain but the unconfigured one. */
export const REALISTIC_CONFIGURED_DOMAINS: readonly string[] = REALISTIC_DOMAINS.filter(
  (d) => d !== UNCONFIGURED_DOMAIN,
);

export type WorldKind = "default" | "realistic";

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
  /** Which preset the rates and domains came from (options given explicitly override it). */
  kind: WorldKind;
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
  /** The domain list the services are meant to be configured with (a subset of `domains` in the realistic world). */
  configuredDomains: readonly string[];
  /** A deleted VOD's playlist answers this long after its segments are gone. */
  playlistGraceMs: number;
  rates: WorldRates;
  streamers: StreamerSpec[];
}

export const DEFAULT_WORLD: Omit<WorldOptions, "seed" | "streams"> = {
  kind: "default",
  muteIntervalMs: 3_600_000,
  viewerTickMs: 60_000,
  retainMs: 12 * 3_600_000,
  domains: LIVE_VOD_DOMAINS,
  configuredDomains: LIVE_VOD_DOMAINS,
  playlistGraceMs: 120_000,
  rates: DEFAULT_RATES,
  streamers: [],
};
