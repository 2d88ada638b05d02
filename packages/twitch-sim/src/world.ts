import type { Clock } from "./clock.ts";
import { EventHeap } from "./heap.ts";
import { randomStreamer, scriptedStreamer, type Streamer } from "./population.ts";
import { drawLiveMs, dueAt, endSession, liveShareOf, scheduleScripted, startSession } from "./sessions.ts";
import { ViewerIndex, type StreamFilter, type StreamPage } from "./viewer-index.ts";
import { availableMs, isDeletedAt, isListedAt, isMuteAppliedAt, muteRunOf, type Vod } from "./vod.ts";
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

  #push(s: Streamer): void {
    const due = dueAt(s);
    if (Number.isFinite(due)) this.#heap.push(due, s.idx);
  }

  #advance(now: number): void {
    const heap = this.#heap;
    while (heap.peekTime() <= now) {
      const t = heap.peekTime();
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
    const vod = endSession(s, at, this.options.rates);
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
