import { vodKey, type TimestampVariant } from "@vod/twitch";
import type { Rng } from "./prng.ts";
import type { Streamer } from "./population.ts";
import { SEGMENT_MS, endVod, type Vod } from "./vod.ts";
import type { SessionSpec, WorldOptions, WorldRates } from "./world-options.ts";

const NO_MUTES: readonly number[] = Object.freeze([]);

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
  options: Pick<WorldOptions, "rates" | "domains">,
  durationOverride?: number,
): Vod {
  const { rates, domains } = options;
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
  const drawnDuration = drawLiveMs(rng, rates);
  const durationMs = scripted ? scripted.durationMs : (durationOverride ?? drawnDuration);
  const drawnDomain = rng.chance(rates.otherDomain) ? rng.pick(domains) : s.domain;
  const drawnSaved = s.savesVods && !rng.chance(rates.neverSaved);
  const drawnDelete = rng.chance(rates.deleted)
    ? Math.round((rates.deleteAfterMinMs + rng.next() * (rates.deleteAfterMaxMs - rates.deleteAfterMinMs)) / 1000) * 1000
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
    endMs: durationMs === undefined ? Infinity : startSec * 1000 + Math.max(1000, durationMs),
    ended: false,
    saved: scripted?.saved ?? (scripted ? s.savesVods : drawnSaved),
    deleteAfterMs: scripted ? (scripted.deleteAfterMs ?? null) : drawnDelete,
    deletedAtMs: null,
    hidden: s.hidden,
    subOnly: s.subOnly,
    muted,
    title: scripted?.title ?? null,
    session: s.sessions + 1,
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

/** Ends the running session at `at` and schedules the next start; returns the ended VOD, or null if offline. */
export function endSession(s: Streamer, at: number, rates: WorldRates): Vod | null {
  const vod = s.live;
  if (!vod) return null;
  endVod(vod, at);
  s.live = null;
  if (s.script) {
    scheduleScripted(s, vod.endMs);
    return vod;
  }
  const rng = s.rng;
  if (rng.chance(rates.restart)) {
    s.pendingSameId = rng.chance(rates.restartSameId);
    s.nextStartMs = vod.endMs + Math.round((rates.restartGapMinMs + rng.next() * (rates.restartGapMaxMs - rates.restartGapMinMs)) / 1000) * 1000;
  } else {
    s.nextStartMs = Math.ceil((vod.endMs + Math.max(60_000, rng.exponential(rates.meanGapMs))) / 1000) * 1000;
  }
  return vod;
}
