import { LIVE_VOD_DOMAINS, vodKey, vodPath, type TimestampVariant } from "@vod/twitch";
import { nextBoundaryAfter, type Clock } from "./clock.ts";
import { EventHeap } from "./heap.ts";
import { Rng, hashUnit, mix32 } from "./prng.ts";

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
};

export const SEGMENT_MS = 10_000;

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

export interface Game {
  id: string;
  name: string;
}

export const GAMES: readonly Game[] = [
  { id: "509658", name: "Just Chatting" },
  { id: "21779", name: "League of Legends" },
  { id: "32982", name: "Grand Theft Auto V" },
  { id: "516575", name: "VALORANT" },
  { id: "33214", name: "Fortnite" },
  { id: "27471", name: "Minecraft" },
  { id: "32399", name: "Counter-Strike" },
  { id: "29595", name: "Dota 2" },
  { id: "743", name: "Chess" },
  { id: "26936", name: "Music" },
  { id: "509660", name: "Art" },
  { id: "491487", name: "Dead by Daylight" },
];

const LANGUAGES: readonly [string, number][] = [
  ["EN", 45], ["ES", 10], ["PT", 7], ["DE", 6], ["RU", 6], ["FR", 5], ["JA", 5],
  ["KO", 4], ["IT", 3], ["ZH", 2], ["PL", 2], ["TR", 2], ["OTHER", 3],
];
const LANGUAGE_TOTAL = LANGUAGES.reduce((sum, [, w]) => sum + w, 0);

const SYLLABLES = ["ka", "zu", "mi", "ro", "xx", "lo", "ne", "tv", "gg", "pro", "ba", "shi", "doo", "kek", "vi", "ra"];

export interface Vod {
  readonly key: string;
  readonly login: string;
  readonly streamerIdx: number;
  readonly streamerId: string;
  readonly streamId: string;
  readonly videoId: string;
  readonly startMs: number;
  readonly ts: number;
  readonly variant: TimestampVariant;
  readonly domain: string;
  /** Planned end while live (Infinity when open-ended), actual end once ended. */
  endMs: number;
  ended: boolean;
  readonly saved: boolean;
  readonly deleteAfterMs: number | null;
  /** Set when the VOD ends (end + deleteAfterMs) or by the admin API. */
  deletedAtMs: number | null;
  readonly hidden: boolean;
  readonly subOnly: boolean;
  /** Flattened half-open ranges: from0, to0, from1, to1, ... */
  readonly muted: readonly number[];
  /** Set for scripted titles only; others are derived (see titleOf) to keep VODs small. */
  readonly title: string | null;
  readonly session: number;
  readonly gameIdx: number;
  readonly language: string;
}

export interface Streamer {
  readonly idx: number;
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  readonly createdAtMs: number;
  readonly popularity: number;
  readonly fixedViewers: number | null;
  readonly domain: string;
  readonly hidden: boolean;
  readonly subOnly: boolean;
  readonly savesVods: boolean;
  readonly language: string;
  readonly gameIdx: number;
  readonly isMature: boolean;
  readonly rng: Rng;
  /** Remaining scripted sessions; null for random streamers. */
  readonly script: SessionSpec[] | null;
  live: Vod | null;
  nextStartMs: number;
  pendingSameId: boolean;
  lastStreamId: string | null;
  sessions: number;
  vods: Vod[];
  livePos: number;
}

/** One page of the viewer-sorted live list. */
export interface StreamPage {
  items: { vod: Vod; streamer: Streamer; viewers: number; position: number }[];
  hasNextPage: boolean;
}

const NO_MUTES: readonly number[] = Object.freeze([]);

const IDX_SPAN = 4_194_304; // 2^22: packs (viewers, streamer idx) into one float64 sort key

export class World {
  readonly streamers: Streamer[] = [];
  readonly #byLogin = new Map<string, Streamer>();
  readonly #byId = new Map<string, Streamer>();
  readonly #byKey = new Map<string, Vod>();
  readonly #byVideoId = new Map<string, Vod>();
  readonly #heap = new EventHeap();
  readonly #live: Streamer[] = [];
  readonly #ended: Vod[] = [];
  #endedHead = 0;
  #now: number;

  #snapTick = -1;
  #snapDirty = true;
  #snapVods: Vod[] = [];
  #snapViewers = new Int32Array(0);
  #snapBuilds = 0;

  constructor(
    readonly options: WorldOptions,
    readonly clock: Clock,
  ) {
    if (options.streams < 0 || options.streams > 1_000_000) throw new RangeError("streams must be within 0..1,000,000");
    if (options.domains.length === 0) throw new RangeError("at least one domain is needed");
    this.#now = clock.now();
    for (const spec of options.streamers) this.addStreamer(spec);
    const rates = options.rates;
    const meanLive = rates.medianLiveMs * Math.exp((rates.liveSigma * rates.liveSigma) / 2);
    const liveShare = meanLive / (meanLive + rates.meanGapMs);
    const population = Math.round(options.streams / liveShare);
    for (let i = 0; i < population; i++) this.#addRandomStreamer(liveShare);
    this.#advance(this.#now);
  }

  /** Virtual time the world was last brought up to. */
  get now(): number {
    return this.#now;
  }

  /** Brings the world up to the clock; every read goes through here. */
  sync(): number {
    const now = this.clock.now();
    // Also at an unchanged time: an admin change may have scheduled something already due.
    if (now >= this.#now) this.#advance(now);
    return this.#now;
  }

  get liveCount(): number {
    this.sync();
    return this.#live.length;
  }

  /** How often the viewer index was rebuilt (for the bench and tests). */
  get indexBuilds(): number {
    return this.#snapBuilds;
  }

  streamerByLogin(login: string): Streamer | undefined {
    this.sync();
    return this.#byLogin.get(login.toLowerCase());
  }

  streamerById(id: string): Streamer | undefined {
    this.sync();
    return this.#byId.get(id);
  }

  vodByKey(key: string): Vod | undefined {
    this.sync();
    return this.#byKey.get(key);
  }

  vodByVideoId(id: string): Vod | undefined {
    this.sync();
    return this.#byVideoId.get(id);
  }

  streamerOf(vod: Vod): Streamer {
    return this.streamers[vod.streamerIdx] as Streamer;
  }

  /** Live streams from `offset` of the viewer-sorted index, most viewers first (or fewest, `ascending`). */
  page(offset: number, first: number, ascending = false): StreamPage {
    const now = this.sync();
    this.#ensureIndex(now);
    const n = this.#snapVods.length;
    const items: StreamPage["items"] = [];
    let pos = Math.max(0, offset);
    for (; pos < n && items.length < first; pos++) {
      const at = ascending ? n - 1 - pos : pos;
      const vod = this.#snapVods[at] as Vod;
      const streamer = this.streamers[vod.streamerIdx] as Streamer;
      // The index is rebuilt once per tick; streams that ended since are left out, not re-sorted.
      if (streamer.live !== vod) continue;
      items.push({ vod, streamer, viewers: this.#snapViewers[at] as number, position: pos });
    }
    return { items, hasNextPage: pos < n };
  }

  /** Viewer count of a live stream as the index sees it now. */
  viewersOf(streamer: Streamer): number {
    const now = this.sync();
    const vod = streamer.live;
    if (!vod) return 0;
    return this.#viewers(streamer, vod, Math.floor(now / this.options.viewerTickMs));
  }

  isDeleted(vod: Vod, now = this.#now): boolean {
    return vod.deletedAtMs !== null && now >= vod.deletedAtMs;
  }

  /** Listed among the streamer's ARCHIVE videos (what makes a VOD "public" to our services). */
  isListed(vod: Vod, now = this.#now): boolean {
    return vod.saved && !vod.hidden && !this.isDeleted(vod, now);
  }

  /** The mute run that processes a VOD: the first boundary strictly after its end. */
  muteRunAt(vod: Vod): number | null {
    return vod.ended ? nextBoundaryAfter(vod.endMs, this.options.muteIntervalMs) : null;
  }

  isMuteApplied(vod: Vod, now = this.#now): boolean {
    const at = this.muteRunAt(vod);
    return at !== null && now >= at;
  }

  /** Seconds of video available now. */
  durationMs(vod: Vod, now = this.#now): number {
    return Math.max(0, (vod.ended ? vod.endMs : now) - vod.startMs);
  }

  /** ARCHIVE videos of a streamer that anyone can list, newest first. */
  listedVods(streamer: Streamer): Vod[] {
    const now = this.sync();
    const out: Vod[] = [];
    for (let i = streamer.vods.length - 1; i >= 0; i--) {
      const vod = streamer.vods[i] as Vod;
      if (this.isListed(vod, now)) out.push(vod);
    }
    return out;
  }

  /** Every VOD still remembered, oldest first per streamer. */
  *allVods(): Generator<Vod> {
    this.sync();
    for (const s of this.streamers) yield* s.vods;
  }

  // ---- admin -------------------------------------------------------------------------------

  addStreamer(spec: StreamerSpec): Streamer {
    const login = spec.login.toLowerCase();
    if (this.#byLogin.has(login)) throw new Error(`streamer ${login} exists`);
    const idx = this.streamers.length;
    const rng = new Rng(mix32(this.options.seed, idx, 0x5c817));
    const gameIdx = spec.game ? GAMES.findIndex((g) => g.name === spec.game || g.id === spec.game) : rng.int(0, GAMES.length - 1);
    const s = this.#register({
      idx,
      id: spec.id ?? String(20_000_000 + idx * 37),
      login,
      displayName: spec.displayName ?? login,
      createdAtMs: Date.UTC(2015, 0, 1) + idx * 60_000,
      popularity: spec.viewers,
      fixedViewers: spec.viewers,
      domain: spec.domain ?? (this.options.domains[0] as string),
      hidden: spec.hidden ?? false,
      subOnly: spec.subOnly ?? false,
      savesVods: spec.savesVods ?? true,
      language: spec.language ?? "EN",
      gameIdx: Math.max(0, gameIdx),
      isMature: false,
      rng,
      script: [...(spec.sessions ?? [])].sort((a, b) => a.startMs - b.startMs),
      live: null,
      nextStartMs: Infinity,
      pendingSameId: false,
      lastStreamId: null,
      sessions: 0,
      vods: [],
      livePos: -1,
    });
    this.#scheduleScripted(s, -Infinity);
    this.#push(s);
    this.#snapDirty = true;
    return s;
  }

  /** Starts a session now (ending a running one first). */
  goLive(login: string, session: Omit<SessionSpec, "startMs"> = {}): Vod {
    const now = this.sync();
    const s = this.#require(login);
    if (s.live) this.#end(s, now);
    const vod = this.#start(s, Math.floor(now / 1000) * 1000, { ...session, startMs: now });
    this.#push(s);
    this.#snapDirty = true;
    return vod;
  }

  /** Ends the running session now. */
  endStream(login: string): Vod {
    const now = this.sync();
    const s = this.#require(login);
    const vod = s.live;
    if (!vod) throw new Error(`${login} is not live`);
    this.#end(s, now);
    this.#push(s);
    return vod;
  }

  /** Deletes a VOD now: its segments answer 403 at once, the playlist shortly after. */
  deleteVod(vod: Vod): void {
    const now = this.sync();
    vod.deletedAtMs = now;
  }

  // ---- internals ---------------------------------------------------------------------------

  #require(login: string): Streamer {
    const s = this.#byLogin.get(login.toLowerCase());
    if (!s) throw new Error(`no streamer ${login}`);
    return s;
  }

  #register(s: Streamer): Streamer {
    this.streamers.push(s);
    this.#byLogin.set(s.login, s);
    this.#byId.set(s.id, s);
    return s;
  }

  #addRandomStreamer(liveShare: number): void {
    const { seed, rates, domains } = this.options;
    const idx = this.streamers.length;
    const rng = new Rng(mix32(seed, idx, 0x5c817));
    const word = `${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}${rng.chance(0.5) ? rng.pick(SYLLABLES) : ""}`;
    const sep = rng.chance(0.12) ? "_" : "";
    const login = `${word}${sep}${idx.toString(36)}`.padEnd(4, "0");
    // Pareto: about half the streamers have 0-1 viewers, a handful have six figures.
    const popularity = Math.min(rates.maxViewers, Math.floor(Math.pow(1 - rng.next(), -1 / rates.viewerAlpha)) - 1);
    let lang = rng.next() * LANGUAGE_TOTAL;
    let language = "EN";
    for (const [code, weight] of LANGUAGES) {
      if ((lang -= weight) < 0) {
        language = code;
        break;
      }
    }
    const s = this.#register({
      idx,
      id: String(20_000_000 + idx * 37),
      login,
      displayName: rng.chance(0.3) ? login.toUpperCase() : login,
      createdAtMs: Date.UTC(2012, 0, 1) + Math.floor(rng.next() * 12 * 365 * 86_400) * 1000,
      popularity,
      fixedViewers: null,
      // Low-index domains get most streamers, as the big Twitch hosts do.
      domain: domains[Math.min(domains.length - 1, Math.floor(Math.pow(rng.next(), 1.6) * domains.length))] as string,
      hidden: rng.chance(rates.hidden),
      subOnly: rng.chance(rates.subOnly),
      savesVods: !rng.chance(rates.noSaveStreamer),
      language,
      gameIdx: rng.int(0, GAMES.length - 1),
      isMature: rng.chance(0.15),
      rng,
      script: null,
      live: null,
      nextStartMs: Infinity,
      pendingSameId: false,
      lastStreamId: null,
      sessions: 0,
      vods: [],
      livePos: -1,
    });
    const now = this.#now;
    if (rng.chance(liveShare)) {
      const duration = this.#drawLive(rng);
      const startMs = Math.floor((now - rng.next() * duration) / 1000) * 1000;
      this.#start(s, startMs, undefined, duration);
    } else {
      // Gaps are exponential, so the time left in one that is under way has the same law.
      s.nextStartMs = Math.ceil((now + rng.exponential(rates.meanGapMs)) / 1000) * 1000;
    }
    this.#push(s);
  }

  #drawLive(rng: Rng): number {
    const r = this.options.rates;
    const ms = r.medianLiveMs * Math.exp(r.liveSigma * rng.normal());
    return Math.round(Math.min(r.maxLiveMs, Math.max(r.minLiveMs, ms)) / 1000) * 1000;
  }

  #dueAt(s: Streamer): number {
    return s.live ? s.live.endMs : s.nextStartMs;
  }

  #push(s: Streamer): void {
    const due = this.#dueAt(s);
    if (Number.isFinite(due)) this.#heap.push(due, s.idx);
  }

  #advance(now: number): void {
    const heap = this.#heap;
    while (heap.peekTime() <= now) {
      const t = heap.peekTime();
      const s = this.streamers[heap.pop()] as Streamer;
      if (this.#dueAt(s) !== t) continue; // stale entry after an admin change
      if (s.live) this.#end(s, t);
      else this.#start(s, t, undefined);
      this.#push(s);
    }
    this.#now = now;
    this.#prune(now);
  }

  #start(s: Streamer, startMs: number, scripted: SessionSpec | undefined, durationOverride?: number): Vod {
    const { rates, domains } = this.options;
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
    const drawnDuration = this.#drawLive(rng);
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
    s.vods.push(vod);
    s.livePos = this.#live.length;
    this.#live.push(s);
    this.#byKey.set(vod.key, vod);
    this.#byVideoId.set(vod.videoId, vod);
    return vod;
  }

  #end(s: Streamer, at: number): void {
    const vod = s.live;
    if (!vod) return;
    const { rates } = this.options;
    vod.endMs = Math.max(vod.startMs + 1000, Math.floor(at / 1000) * 1000);
    vod.ended = true;
    if (vod.deleteAfterMs !== null && vod.deletedAtMs === null) vod.deletedAtMs = vod.endMs + vod.deleteAfterMs;
    s.live = null;
    const last = this.#live.pop() as Streamer;
    if (last !== s) {
      this.#live[s.livePos] = last;
      last.livePos = s.livePos;
    }
    s.livePos = -1;
    this.#ended.push(vod);
    if (s.script) return this.#scheduleScripted(s, vod.endMs);
    const rng = s.rng;
    if (rng.chance(rates.restart)) {
      s.pendingSameId = rng.chance(rates.restartSameId);
      s.nextStartMs = vod.endMs + Math.round((rates.restartGapMinMs + rng.next() * (rates.restartGapMaxMs - rates.restartGapMinMs)) / 1000) * 1000;
    } else {
      s.nextStartMs = Math.ceil((vod.endMs + Math.max(60_000, rng.exponential(rates.meanGapMs))) / 1000) * 1000;
    }
  }

  #scheduleScripted(s: Streamer, after: number): void {
    const next = s.script?.[0];
    s.nextStartMs = next ? Math.max(Math.floor(next.startMs / 1000) * 1000, after + 1000) : Infinity;
  }

  #prune(now: number): void {
    const ended = this.#ended;
    while (this.#endedHead < ended.length) {
      const vod = ended[this.#endedHead] as Vod;
      if (vod.endMs + this.options.retainMs > now) break;
      this.#endedHead++;
      if (this.#byKey.get(vod.key) === vod) this.#byKey.delete(vod.key);
      if (this.#byVideoId.get(vod.videoId) === vod) this.#byVideoId.delete(vod.videoId);
      const list = this.streamers[vod.streamerIdx]?.vods;
      if (list) {
        const at = list.indexOf(vod);
        if (at >= 0) list.splice(at, 1);
      }
    }
    if (this.#endedHead > 4096 && this.#endedHead * 2 > ended.length) {
      ended.splice(0, this.#endedHead);
      this.#endedHead = 0;
    }
  }

  /** Viewers during a tick; a function of the tick alone, so it does not matter when the index is built. */
  #viewers(s: Streamer, vod: Vod, tick: number): number {
    if (s.fixedViewers !== null) return s.fixedViewers;
    const age = Math.max(0, tick * this.options.viewerTickMs - vod.startMs);
    const ramp = age >= 900_000 ? 1 : 0.25 + (0.75 * age) / 900_000;
    const u = hashUnit(this.options.seed, s.idx, tick) + hashUnit(s.idx, tick, 0x7e57) - 1; // triangular in (-1, 1)
    return Math.max(0, Math.round(s.popularity * ramp * Math.exp(this.options.rates.viewerNoise * 2 * u)));
  }

  #ensureIndex(now: number): void {
    const tick = Math.floor(now / this.options.viewerTickMs);
    if (tick === this.#snapTick && !this.#snapDirty) return;
    const live = this.#live;
    const n = live.length;
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = live[i] as Streamer;
      const v = Math.min(this.#viewers(s, s.live as Vod, tick), 1 << 30);
      keys[i] = v * IDX_SPAN + s.idx;
    }
    keys.sort();
    const vods = new Array<Vod>(n);
    const viewers = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const key = keys[n - 1 - i] as number;
      const idx = key % IDX_SPAN;
      vods[i] = (this.streamers[idx] as Streamer).live as Vod;
      viewers[i] = (key - idx) / IDX_SPAN;
    }
    this.#snapVods = vods;
    this.#snapViewers = viewers;
    this.#snapTick = tick;
    this.#snapDirty = false;
    this.#snapBuilds++;
  }
}

export function titleOf(vod: Vod, streamer: Streamer): string {
  return vod.title ?? `${GAMES[vod.gameIdx]?.name ?? "stream"} with ${streamer.displayName} #${vod.session}`;
}

/** Where a VOD's playlist lives, relative to its domain's root. */
export function pathOf(vod: Vod, quality = "chunked"): string {
  return vodPath(vod.login, vod.streamId, vod.ts, quality);
}
