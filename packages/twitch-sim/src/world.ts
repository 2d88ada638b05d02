import type { Clock } from "./clock.ts";
import { EventHeap } from "./heap.ts";
import { randomStreamer, scriptedStreamer, type Streamer } from "./population.ts";
import { Rng, mix32 } from "./prng.ts";
import { drawLiveMs, dueAt, endSession, liveShareOf, scheduleScripted, startSession } from "./sessions.ts";
import { ViewerIndex, viewersAt, type StreamFilter, type StreamPage } from "./viewer-index.ts";
import { availableMs, isDeletedAt, isListedAt, isMuteAppliedAt, listedFromMs, muteRunOf, type Vod } from "./vod.ts";
import { VodStore } from "./vod-store.ts";
import type { SessionSpec, StreamerSpec, WorldOptions } from "./world-options.ts";

/**
 * The simulated Twitch: streamers, their sessions and VODs, moved forward to the clock on every read.
 * Events are processed in (time, streamer) order, so the world does not depend on how the clock is stepped.
 */
export class World {
  readonly streamers: Streamer[] = [];
  readonly #byLogin = new Map<string, Streamer>();
  readonly #byId = new Map<string, Streamer>();
  readonly #vods = new VodStore();
  readonly #heap = new EventHeap();
  /** Streamers live now, in no order; each knows its position (`livePos`) for O(1) removal. */
  readonly #live: Streamer[] = [];
  readonly #index: ViewerIndex;
  #now: number;
  /** New streamers join as a Poisson process with its own generator; the next one joins at `#nextArrivalMs`. */
  readonly #arrivals: Rng;
  readonly #arrivalMeanMs: number;
  #nextArrivalMs = Infinity;

  constructor(
    readonly options: WorldOptions,
    readonly clock: Clock,
  ) {
    if (options.streams < 0 || options.streams > 1_000_000) throw new RangeError("streams must be within 0..1,000,000");
    if (options.domains.length === 0) throw new RangeError("at least one domain is needed");
    this.#now = clock.now();
    this.#index = new ViewerIndex(this.streamers, options);
    for (const spec of options.streamers) this.addStreamer(spec);
    const liveShare = liveShareOf(options.rates);
    const population = Math.round(options.streams / liveShare);
    for (let i = 0; i < population; i++) this.#addRandomStreamer(liveShare);
    this.#arrivals = new Rng(mix32(options.seed, 0xa77e));
    const perDay = options.rates.newStreamersPerDay * population;
    this.#arrivalMeanMs = perDay > 0 ? 86_400_000 / perDay : Infinity;
    this.#nextArrivalMs = this.#arrivalAfter(this.#now);
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
    return this.#index.builds;
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
    return this.#vods.byKey(key);
  }

  vodByVideoId(id: string): Vod | undefined {
    this.sync();
    return this.#vods.byVideoId(id);
  }

  streamerOf(vod: Vod): Streamer {
    return this.streamers[vod.streamerIdx] as Streamer;
  }

  /** Live streams from `offset` of the viewer-sorted index (filtered), most viewers first (or fewest, `ascending`). */
  page(offset: number, first: number, ascending = false, filter?: StreamFilter): StreamPage {
    const now = this.sync();
    return this.#index.page(this.#live, now, offset, first, ascending, filter);
  }

  /** Viewer count of a live stream as the index sees it now. */
  viewersOf(streamer: Streamer): number {
    return this.#index.viewersOf(streamer, this.sync());
  }

  isDeleted(vod: Vod, now = this.#now): boolean {
    return isDeletedAt(vod, now);
  }

  /** Listed among the streamer's ARCHIVE videos (what makes a VOD "public" to our services). */
  isListed(vod: Vod, now = this.#now): boolean {
    return isListedAt(vod, now);
  }

  /** The mute run that processes a VOD: the first boundary strictly after its end. */
  muteRunAt(vod: Vod): number | null {
    return muteRunOf(vod, this.options.muteIntervalMs);
  }

  isMuteApplied(vod: Vod, now = this.#now): boolean {
    return isMuteAppliedAt(vod, now, this.options.muteIntervalMs);
  }

  /** Milliseconds of video available now. */
  durationMs(vod: Vod, now = this.#now): number {
    return availableMs(vod, now);
  }

  /** When the VOD appears among the ARCHIVE videos: null if never, or not known yet (still live). */
  listedFrom(vod: Vod): number | null {
    return listedFromMs(vod);
  }

  /** Most viewers the stream had in any viewer tick up to now (what a poller could have seen at best). */
  peakViewers(vod: Vod): number {
    if (vod.peakViewers >= 0) return vod.peakViewers;
    if (vod.falseStartViewers !== null) return vod.falseStartViewers;
    const s = this.streamerOf(vod);
    if (s.script !== null) return s.fixedViewers ?? 0;
    const tickMs = this.options.viewerTickMs;
    const last = Math.floor((Math.min(vod.endMs, this.#now + 1) - 1) / tickMs);
    // A false start running now pins the streamer's viewers; an earlier VOD had its usual audience.
    const pinned = s.fixedViewers;
    s.fixedViewers = null;
    let peak = 0;
    for (let tick = Math.floor(vod.startMs / tickMs); tick <= last; tick++)
      peak = Math.max(peak, viewersAt(s, vod, tick, this.options));
    s.fixedViewers = pinned;
    if (vod.ended) vod.peakViewers = peak;
    return peak;
  }

  /** ARCHIVE videos of a streamer that anyone can list, newest first. */
  listedVods(streamer: Streamer): Vod[] {
    const now = this.sync();
    const out: Vod[] = [];
    for (let i = streamer.vods.length - 1; i >= 0; i--) {
      const vod = streamer.vods[i] as Vod;
      if (isListedAt(vod, now)) out.push(vod);
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
    const s = this.#register(scriptedStreamer(spec, this.streamers.length, this.options));
    scheduleScripted(s, -Infinity);
    this.#push(s);
    this.#index.invalidate();
    return s;
  }

  /** Starts a session now (ending a running one first). */
  goLive(login: string, session: Omit<SessionSpec, "startMs"> = {}): Vod {
    const now = this.sync();
    const s = this.#require(login);
    if (s.live) this.#end(s, now);
    const vod = this.#start(s, Math.floor(now / 1000) * 1000, { ...session, startMs: now });
    this.#push(s);
    this.#index.invalidate();
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
    const s = this.#register(randomStreamer(this.streamers.length, this.options));
    const { rates } = this.options;
    const rng = s.rng;
    const now = this.#now;
    if (rng.chance(liveShare)) {
      const duration = drawLiveMs(rng, rates);
      const startMs = Math.floor((now - rng.next() * duration) / 1000) * 1000;
      this.#start(s, startMs, undefined, duration);
    } else {
      // Gaps are exponential, so the time left in one that is under way has the same law.
      s.nextStartMs = Math.ceil((now + rng.exponential(rates.meanGapMs)) / 1000) * 1000;
    }
    this.#push(s);
  }

  #arrivalAfter(t: number): number {
    return Number.isFinite(this.#arrivalMeanMs)
      ? Math.ceil((t + this.#arrivals.exponential(this.#arrivalMeanMs)) / 1000) * 1000
      : Infinity;
  }

  /** A new account goes live for the first time. */
  #arrive(at: number): void {
    let s = randomStreamer(this.streamers.length, this.options, at);
    // Logins are drawn per index, so a clash would repeat for every later arrival: rename instead (rare, so a spread is fine).
    for (let n = 1; this.#byLogin.has(s.login); n++) {
      const login = `${s.login.slice(0, 20)}_${n}`;
      s = { ...s, login, displayName: login };
    }
    this.#register(s);
    this.#start(s, at, undefined);
    this.#push(s);
  }

  #push(s: Streamer): void {
    const due = dueAt(s);
    if (Number.isFinite(due)) this.#heap.push(due, s.idx);
  }

  #advance(now: number): void {
    const heap = this.#heap;
    for (;;) {
      const t = heap.peekTime();
      // Arrivals go first at equal times, so the order of events never depends on how the clock is stepped.
      if (this.#nextArrivalMs <= Math.min(t, now)) {
        const at = this.#nextArrivalMs;
        this.#arrive(at);
        this.#nextArrivalMs = this.#arrivalAfter(at);
        continue;
      }
      if (t > now) break;
      const s = this.streamers[heap.pop()] as Streamer;
      if (dueAt(s) !== t) continue; // stale entry after an admin change
      if (s.live) this.#end(s, t);
      else this.#start(s, t, undefined);
      this.#push(s);
    }
    this.#now = now;
    this.#vods.prune(now, this.options.retainMs, this.streamers);
  }

  #start(s: Streamer, startMs: number, scripted: SessionSpec | undefined, durationOverride?: number): Vod {
    const vod = startSession(s, startMs, scripted, this.options, durationOverride);
    s.livePos = this.#live.length;
    this.#live.push(s);
    this.#vods.add(vod, s);
    return vod;
  }

  #end(s: Streamer, at: number): void {
    const vod = endSession(s, at, this.options);
    if (!vod) return;
    const last = this.#live.pop() as Streamer;
    if (last !== s) {
      this.#live[s.livePos] = last;
      last.livePos = s.livePos;
    }
    s.livePos = -1;
    this.#vods.ended(vod);
  }
}
