import { isMuted, segmentCount } from "./cdn.ts";
import { iso } from "./times.ts";
import { pathOf, type Vod } from "./vod.ts";
import type { World } from "./world.ts";

/** Ground truth about one VOD, as `GET /admin/vods` reports it. */
export interface VodTruth {
  login: string;
  streamerId: string;
  streamId: string;
  videoId: string;
  startTime: string;
  /** The ts in the playlist path, and which quirk produced it. */
  ts: number;
  variant: "start" | "minus1" | "seconds";
  domain: string;
  path: string;
  live: boolean;
  endedAt: string | null;
  /** False when the VOD was never saved: no playlist on the CDN at any time. */
  saved: boolean;
  /** When the VOD is (or will be) deleted; `deleted` says whether that time has passed. */
  deletedAt: string | null;
  deleted: boolean;
  /** Listed among the streamer's ARCHIVE videos now (saved, not hidden, not deleted). */
  public: boolean;
  hidden: boolean;
  subOnly: boolean;
  /** Half-open segment ranges that the mute run renames to N-muted.ts. */
  muted: [number, number][];
  /** The mute run that processes this VOD (first boundary after its end), and whether it has run. */
  muteRunAt: string | null;
  muteApplied: boolean;
  /** Segments in the playlist now, and how many of them are named -muted now. */
  segments: number;
  mutedSegmentsNow: number;
}

export function truthOf(world: World, vod: Vod): VodTruth {
  const now = world.now;
  const muted: [number, number][] = [];
  for (let i = 0; i + 1 < vod.muted.length; i += 2) muted.push([vod.muted[i] as number, vod.muted[i + 1] as number]);
  const segments = segmentCount(world, vod, now);
  const muteApplied = world.isMuteApplied(vod, now);
  let mutedNow = 0;
  if (muteApplied) for (let i = 0; i < segments; i++) if (isMuted(vod, i)) mutedNow++;
  const muteRunAt = world.muteRunAt(vod);
  return {
    login: vod.login,
    streamerId: vod.streamerId,
    streamId: vod.streamId,
    videoId: vod.videoId,
    startTime: iso(vod.startMs),
    ts: vod.ts,
    variant: vod.variant,
    domain: vod.domain,
    path: pathOf(vod),
    live: !vod.ended,
    endedAt: vod.ended ? iso(vod.endMs) : null,
    saved: vod.saved,
    deletedAt: vod.deletedAtMs === null ? null : iso(vod.deletedAtMs),
    deleted: world.isDeleted(vod, now),
    public: world.isListed(vod, now),
    hidden: vod.hidden,
    subOnly: vod.subOnly,
    muted,
    muteRunAt: muteRunAt === null ? null : iso(muteRunAt),
    muteApplied,
    segments,
    mutedSegmentsNow: mutedNow,
  };
}

export interface VodFilter {
  login?: string;
  streamId?: string;
  state?: "live" | "ended";
  limit?: number;
  offset?: number;
}

export function queryVods(world: World, filter: VodFilter = {}): { total: number; vods: VodTruth[] } {
  const out: VodTruth[] = [];
  let total = 0;
  const offset = filter.offset ?? 0;
  const limit = filter.limit ?? Infinity;
  const source = filter.login ? (world.streamerByLogin(filter.login)?.vods ?? []) : world.allVods();
  for (const vod of source) {
    if (filter.streamId && vod.streamId !== filter.streamId) continue;
    if (filter.state === "live" && vod.ended) continue;
    if (filter.state === "ended" && !vod.ended) continue;
    if (total >= offset && out.length < limit) out.push(truthOf(world, vod));
    total++;
  }
  return { total, vods: out };
}
