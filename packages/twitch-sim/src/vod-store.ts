import type { Streamer } from "./population.ts";
import type { Vod } from "./vod.ts";

/** The VODs the world remembers, by path key and video id, until their retention runs out. */
export class VodStore {
  readonly #byKey = new Map<string, Vod>();
  readonly #byVideoId = new Map<string, Vod>();
  /** Ended VODs in order of their end, consumed from `#endedHead`. */
  readonly #ended: Vod[] = [];
  #endedHead = 0;

  byKey(key: string): Vod | undefined {
    return this.#byKey.get(key);
  }

  byVideoId(id: string): Vod | undefined {
    return this.#byVideoId.get(id);
  }

  /** Remembers a new VOD, also in its streamer's list. */
  add(vod: Vod, streamer: Streamer): void {
    streamer.vods.push(vod);
    this.#byKey.set(vod.key, vod);
    this.#byVideoId.set(vod.videoId, vod);
  }

  /** Starts a VOD's retention; VODs arrive in the order they end, so pruning stops at the first one still kept. */
  ended(vod: Vod): void {
    this.#ended.push(vod);
  }

  /** Forgets VODs that ended `retainMs` or more before `now`. */
  prune(now: number, retainMs: number, streamers: readonly Streamer[]): void {
    const ended = this.#ended;
    while (this.#endedHead < ended.length) {
      const vod = ended[this.#endedHead] as Vod;
      if (vod.endMs + retainMs > now) break;
      this.#endedHead++;
      // A later VOD may have taken the key or the id since.
      if (this.#byKey.get(vod.key) === vod) this.#byKey.delete(vod.key);
      if (this.#byVideoId.get(vod.videoId) === vod) this.#byVideoId.delete(vod.videoId);
      const list = streamers[vod.streamerIdx]?.vods;
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
}
