import { vodKey, type TimestampVariant } from "@vod/twitch";
import { hashUnit, type Rng } from "./prng.ts";
import { otherDomainByPopularity, type Streamer } from "./population.ts";
import { SEGMENT_MS, endVod, type Vod } from "./vod.ts";
import type { SessionSpec, WorldOptions, WorldRates } from "./world-options.ts";

const NO_MUTES: readonly number[] = Object.freeze([]);
const DAY_MS = 86_400_000;

// Realistic-world draws hash (seed, streamer, session, salt) instead of taking numbers from the streamer's
// generator, so the sequence the older world draws from it stays exactly as it was.
const SALT_SCATTER = 0x5ca7;
const SALT_MIGRATE = 0x319a;
const SALT_FALSE_START = 0xfa15;
const SALT_LIST_DELAY = 0x1157;
const SALT_RETIRE = 0x2e71;
const SALT_RESTART_GAP = 0x9a9;

type SessionOptions = Pick<WorldOptions, "rates" | "domains" | "seed">;

const unit = (seed: number, s: Streamer, session: number, salt: number, k = 0): number =>
  hashUnit(seed, s.idx, session, salt, k);

/** Mean time from one ordinary session end (not a restart) to the next: sessions, restarts included, and a gap. */
function meanCycleMs(rates: WorldRates): number {
  const meanLive = rates.medianLiveMs * Math.exp((rates.liveSigma * rates.liveSigma) / 2);
  return meanLive / (1 - Math.min(0.99, rates.restart)) + rates.meanGapMs;
}

/** Chance that a random streamer retires at the end of a session, so retirements match `newStreamersPerDay`. */
export function retireChance(rates: WorldRates): number {
  return Math.min(1, (rates.newStreamersPerDay * meanCycleMs(rates)) / DAY_MS);
}

/** Listing delay after the end: log-normal around the median, clamped; null when VODs are listed while live. */
function listDelayOf(rates: WorldRates, u1: number, u2: number): number | null {
  if (rates.listLive >= 1) return null;
  const normal = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  const ms = rates.listDelayMedianMs * Math.exp(rates.listDelaySigma * normal);
  return Math.round(Math.min(rates.listDelayMaxMs, Math.max(rates.listDelayMinMs, ms)) / 1000) * 1000;
}

/** Share of the random population live at any time, from the mean session and the mean gap. */
export function liveShareOf(rates: WorldRates): number {
  const meanLive = rates.medianLiveMs * Math.exp((rates.liveSigma * rates.liveSigma) / 2);
  return meanLive / (meanLive + rates.meanGapMs);
}

/** A random session length, whole seconds. */
export function drawLiveMs(rng: Rng, rates: WorldRates): number {
  const ms = rates.medianLiveMs * Math.exp(rates.liveSigma * rng.normal());
  return Math.round(Math.min(rates.maxLiveMs, Math.max(rates.minLiveMs, ms)) / 1000) * 1000;
}

/** When the streamer's next event is due: the end of its session, or the start of the next. */
export function dueAt(s: Streamer): number {
  return s.live ? s.live.endMs : s.nextStartMs;
}

/** Next scripted start, at least a second after `after`; none once the script has run out. */
export function scheduleScripted(s: Streamer, after: number): void {
  const next = s.script?.[0];
  s.nextStartMs = next ? Math.max(Math.floor(next.startMs / 1000) * 1000, after + 1000) : Infinity;
}

/**
 * Starts a session and returns its VOD. `scripted` (or the streamer's next scripted session) decides
 * what it gives; the rest is drawn from the streamer's generator, always in the same order.
 */
export function startSession(
  s: Streamer,
  startMs: number,
  scripted: SessionSpec | undefined,
  options: SessionOptions,
  durationOverride?: number,
): Vod {
  const { rates, domains, seed } = options;
  const rng = s.rng;
  if (s.script && !scripted) scripted = s.script.shift();
  const startSec = Math.floor(startMs / 1000);
  const sameId = (scripted?.sameStreamId ?? s.pendingSameId) && s.lastStreamId !== null;
  // Ids grow with time like Twitch's, and stay unique per streamer and second.
  const serial = (startSec - 1_600_000_000) * 1_000_003 + s.idx;
  const streamId = scripted?.streamId ?? (sameId ? (s.lastStreamId as string) : String(300_000_000_000 + serial));
  const drawnVariant: TimestampVariant = rng.chance(rates.minus1) ? "minus1" : "start";
  const variant: TimestampVariant = scripted?.variant ?? (sameId ? "seconds" : drawnVariant);
  const ts = variant === "start" ? startSec : variant === "minus1" ? startSec - 1 : startSec % 60;
  let drawnDuration = drawLiveMs(rng, rates);
  const session = s.sessions + 1;
  // Random sessions only: a migration moves the home domain for good; a restart keeps its stream's domain.
  const random = !scripted && s.script === null;
  let migratedHere = false;
  if (
    random &&
    !sameId &&
    s.sessions > 0 &&
    rates.migrate > 0 &&
    unit(seed, s, session, SALT_MIGRATE) < rates.migrate
  ) {
    const to = otherDomainByPopularity(unit(seed, s, session, SALT_MIGRATE, 1), domains, s.domain);
    migratedHere = to !== s.domain;
    if (migratedHere) s.migrations++;
    s.domain = to;
  }
  let falseStartViewers: number | null = null;
  if (
    random &&
    !sameId &&
    durationOverride === undefined &&
    rates.falseStart > 0 &&
    unit(seed, s, session, SALT_FALSE_START) < rates.falseStart
  ) {
    const u = unit(seed, s, session, SALT_FALSE_START, 1);
    drawnDuration =
      Math.round((rates.falseStartMinMs + u * (rates.falseStartMaxMs - rates.falseStartMinMs)) / 1000) * 1000;
    falseStartViewers = Math.floor(unit(seed, s, session, SALT_FALSE_START, 2) * (rates.falseStartMaxViewers + 1));
    // The viewer index honours fixed viewers; endSession lifts this again.
    s.fixedViewers = falseStartViewers;
  }
  const durationMs = scripted ? scripted.durationMs : (durationOverride ?? drawnDuration);
  let drawnDomain = rng.chance(rates.otherDomain) ? rng.pick(domains) : s.domain;
  if (random && rates.scatter > 0 && unit(seed, s, session, SALT_SCATTER) < rates.scatter) {
    drawnDomain = otherDomainByPopularity(unit(seed, s, session, SALT_SCATTER, 1), domains, s.domain);
  }
  const drawnSaved = s.savesVods && !rng.chance(rates.neverSaved);
  const drawnDelete = rng.chance(rates.deleted)
    ? Math.round((rates.deleteAfterMinMs + rng.next() * (rates.deleteAfterMaxMs - rates.deleteAfterMinMs)) / 1000) *
      1000
    : null;
  let muted: readonly number[] = NO_MUTES;
  if (scripted?.muted) muted = scripted.muted.flat();
  else if (!scripted && rng.chance(rates.muted)) {
    const ranges: number[] = [];
    muted = ranges;
    const segments = Math.max(1, Math.floor((durationMs ?? 0) / SEGMENT_MS));
    const count = rng.int(1, 3);
    for (let i = 0; i < count; i++) {
      const from = Math.floor(rng.next() * segments);
      ranges.push(from, Math.min(segments, from + rng.int(3, 36)));
    }
  }
  const vod: Vod = {
    key: vodKey(s.login, streamId, ts),
    login: s.login,
    streamerIdx: s.idx,
    streamerId: s.id,
    streamId,
    videoId: String(1_000_000_000_000_000 + serial),
    startMs: startSec * 1000,
    ts,
    variant,
    domain: scripted?.domain ?? drawnDomain,
    homeDomain: s.domain,
    migrations: s.migrations,
    migratedHere,
    falseStartViewers,
    listDelayMs: listDelayOf(
      rates,
      unit(seed, s, session, SALT_LIST_DELAY),
      unit(seed, s, session, SALT_LIST_DELAY, 1),
    ),
    peakViewers: -1,
    endMs: durationMs === undefined ? Infinity : startSec * 1000 + Math.max(1000, durationMs),
    ended: false,
    saved: scripted?.saved ?? (scripted ? s.savesVods : drawnSaved),
    deleteAfterMs: scripted ? (scripted.deleteAfterMs ?? null) : drawnDelete,
    deletedAtMs: null,
    hidden: s.hidden,
    subOnly: s.subOnly,
    muted,
    title: scripted?.title ?? null,
    session,
    gameIdx: s.gameIdx,
    language: s.language,
  };
  s.sessions++;
  s.live = vod;
  s.lastStreamId = streamId;
  s.pendingSameId = false;
  s.nextStartMs = Infinity;
  return vod;
}

/**
 * Ends the running session at `at` and schedules the next start (none once the streamer retires); returns the
 * ended VOD, or null if offline.
 */
export function endSession(s: Streamer, at: number, options: Pick<WorldOptions, "rates" | "seed">): Vod | null {
  const { rates, seed } = options;
  const vod = s.live;
  if (!vod) return null;
  endVod(vod, at);
  s.live = null;
  if (s.script) {
    scheduleScripted(s, vod.endMs);
    return vod;
  }
  if (vod.falseStartViewers !== null) {
    // A false start is always restarted under the same stream id, with the streamer's usual audience.
    s.fixedViewers = null;
    s.pendingSameId = true;
    const u = unit(seed, s, vod.session, SALT_RESTART_GAP);
    s.nextStartMs =
      vod.endMs +
      Math.round((rates.restartGapMinMs + u * (rates.restartGapMaxMs - rates.restartGapMinMs)) / 1000) * 1000;
    return vod;
  }
  const rng = s.rng;
  if (rng.chance(rates.restart)) {
    s.pendingSameId = rng.chance(rates.restartSameId);
    s.nextStartMs =
      vod.endMs +
      Math.round((rates.restartGapMinMs + rng.next() * (rates.restartGapMaxMs - rates.restartGapMinMs)) / 1000) * 1000;
  } else {
    s.nextStartMs = Math.ceil((vod.endMs + Math.max(60_000, rng.exponential(rates.meanGapMs))) / 1000) * 1000;
    if (rates.newStreamersPerDay > 0 && unit(seed, s, vod.session, SALT_RETIRE) < retireChance(rates))
      s.nextStartMs = Infinity;
  }
  return vod;
}
