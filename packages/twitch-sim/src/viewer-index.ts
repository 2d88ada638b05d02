import type { Streamer } from "./population.ts";
import { hashUnit } from "./prng.ts";
import type { Vod } from "./vod.ts";
import type { WorldOptions } from "./world-options.ts";

/** One page of the viewer-sorted live list. */
export interface StreamPage {
  items: { vod: Vod; streamer: Streamer; viewers: number; position: number }[];
  hasNextPage: boolean;
}

type ViewerOptions = Pick<WorldOptions, "seed" | "viewerTickMs" | "rates">;

/** A filter on the live list, as `streams(options: {languages})` and `Game.streams` apply it. */
export interface StreamFilter {
  /** Broadcaster languages (upper case, as the Language enum spells them); any when absent. */
  languages?: readonly string[];
  /** Category index into GAMES; any when absent. */
  gameIdx?: number;
}

const IDX_SPAN = 4_194_304; // 2^22: packs (viewers, streamer idx) into one float64 sort key

/** Viewers during a tick; a function of the tick alone, so it does not matter when the index is built. */
export function viewersAt(s: Streamer, vod: Vod, tick: number, options: ViewerOptions): number {
  if (s.fixedViewers !== null) return s.fixedViewers;
  const age = Math.max(0, tick * options.viewerTickMs - vod.startMs);
  const ramp = age >= 900_000 ? 1 : 0.25 + (0.75 * age) / 900_000;
  const u = hashUnit(options.seed, s.idx, tick) + hashUnit(s.idx, tick, 0x7e57) - 1; // triangular in (-1, 1)
  return Math.max(0, Math.round(s.popularity * ramp * Math.exp(options.rates.viewerNoise * 2 * u)));
}

/** The live streams sorted by viewers, rebuilt at most once per viewer tick (or after an admin change). */
export class ViewerIndex {
  #tick = -1;
  #dirty = true;
  #vods: Vod[] = [];
  #viewers = new Int32Array(0);
  #builds = 0;
  /** Positions into the full list per filter, built on first use after each rebuild. */
  #filtered = new Map<string, Int32Array>();

  constructor(
    private readonly streamers: readonly Streamer[],
    private readonly options: ViewerOptions,
  ) {}

  /** How often the index was rebuilt (for the bench and tests). */
  get builds(): number {
    return this.#builds;
  }

  /** Rebuild on the next read, whatever the tick: streams were added or started outside the schedule. */
  invalidate(): void {
    this.#dirty = true;
  }

  /** Viewer count of a live stream at `now`. */
  viewersOf(s: Streamer, now: number): number {
    const vod = s.live;
    if (!vod) return 0;
    return viewersAt(s, vod, this.#tickOf(now), this.options);
  }

  /**
   * Streams from `offset`, most viewers first (or fewest, `ascending`), out of `live` as it stood at the
   * last rebuild. A filtered list is the full list with the others left out: the same order, the same drift.
   */
  page(
    live: readonly Streamer[],
    now: number,
    offset: number,
    first: number,
    ascending: boolean,
    filter?: StreamFilter,
  ): StreamPage {
    this.#ensure(live, now);
    const positions =
      filter && (filter.languages !== undefined || filter.gameIdx !== undefined) ? this.#positions(filter) : null;
    const n = positions ? positions.length : this.#vods.length;
    const items: StreamPage["items"] = [];
    let pos = Math.max(0, offset);
    for (; pos < n && items.length < first; pos++) {
      const rank = ascending ? n - 1 - pos : pos;
      const at = positions ? (positions[rank] as number) : rank;
      const vod = this.#vods[at] as Vod;
      const streamer = this.streamers[vod.streamerIdx] as Streamer;
      // The index is rebuilt once per tick; streams that ended since are left out, not re-sorted.
      if (streamer.live !== vod) continue;
      items.push({ vod, streamer, viewers: this.#viewers[at] as number, position: pos });
    }
    return { items, hasNextPage: pos < n };
  }

  #positions(filter: StreamFilter): Int32Array {
    const languages = filter.languages ? [...new Set(filter.languages)].sort() : null;
    const key = `${languages?.join(",") ?? "*"}|${filter.gameIdx ?? "*"}`;
    let positions = this.#filtered.get(key);
    if (positions) return positions;
    const wanted = languages ? new Set(languages) : null;
    const vods = this.#vods;
    const out = new Int32Array(vods.length);
    let n = 0;
    for (let i = 0; i < vods.length; i++) {
      const vod = vods[i] as Vod;
      if (wanted && !wanted.has(vod.language)) continue;
      if (filter.gameIdx !== undefined && vod.gameIdx !== filter.gameIdx) continue;
      out[n++] = i;
    }
    positions = out.slice(0, n);
    // Bounded: a client asking for many distinct filters cannot grow memory without end.
    if (this.#filtered.size >= 256) this.#filtered.clear();
    this.#filtered.set(key, positions);
    return positions;
  }

  #tickOf(now: number): number {
    return Math.floor(now / this.options.viewerTickMs);
  }

  #ensure(live: readonly Streamer[], now: number): void {
    const tick = this.#tickOf(now);
    if (tick === this.#tick && !this.#dirty) return;
    const n = live.length;
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = live[i] as Streamer;
      const v = Math.min(viewersAt(s, s.live as Vod, tick, this.options), 1 << 30);
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
    this.#vods = vods;
    this.#viewers = viewers;
    this.#tick = tick;
    this.#dirty = false;
    this.#filtered = new Map();
    this.#builds++;
  }
}
