import type { DelayVod } from "@vod/kafka";
import { startTimeOfKey, streamIdOfKey } from "./keys.ts";

/**
 * A released VOD, kept only so that late or redelivered sightings do not release it again, and so
 * that a newer sighting or a `live` fetch result can track it again: numbers, not its record.
 */
export interface Released {
  readonly streamerId: string;
  lastSeen: number;
  readonly firstSeen: number;
  readonly maxViewers: number;
  readonly releasedAt: number;
  readonly restart: boolean;
  readonly liveResults: number;
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Released VODs, compactly, until their retention ends. */
export class ReleasedStore {
  readonly #map = new Map<string, Released>();

  get(key: string): Released | undefined {
    return this.#map.get(key);
  }

  get size(): number {
    return this.#map.size;
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  /** Keeps a released VOD's numbers (its record is dropped by the caller). */
  pack(key: string, vod: DelayVod): void {
    this.#map.set(key, {
      streamerId: vod.streamerId,
      lastSeen: ms(vod.lastSeen),
      firstSeen: ms(vod.firstSeen),
      maxViewers: vod.maxViewers,
      releasedAt: vod.releasedAt ? ms(vod.releasedAt) : ms(vod.lastSeen),
      restart: vod.restart ?? false,
      liveResults: vod.liveResults ?? 0,
    });
  }

  /** Takes a released VOD out as its record again (still released), to be tracked after a newer sighting or a live result. */
  unpack(key: string, r: Released, login: string): DelayVod {
    this.#map.delete(key);
    return {
      v: 1,
      kind: "vod",
      streamId: streamIdOfKey(key),
      startTime: startTimeOfKey(key),
      streamerId: r.streamerId,
      login,
      firstSeen: iso(r.firstSeen),
      lastSeen: iso(r.lastSeen),
      maxViewers: r.maxViewers,
      status: "released",
      endedAt: null,
      endReason: null,
      releaseAt: null,
      releasedAt: iso(r.releasedAt),
      ...(r.restart ? { restart: true } : {}),
      ...(r.liveResults > 0 ? { liveResults: r.liveResults } : {}),
    };
  }

  /** Keys released at least `retentionMs` before `now`. */
  expired(now: number, retentionMs: number): string[] {
    const out: string[] = [];
    for (const [key, r] of this.#map) if (r.releasedAt + retentionMs <= now) out.push(key);
    return out;
  }
}
