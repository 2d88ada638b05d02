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
  /** The streamer's home domain at this session; `domain` differs when this one VOD was scattered. */
  homeDomain: string;
  scattered: boolean;
  /** The streamer's home domain had changed for good by this session; `migratedHere`: this session is the first after a move. */
  migrated: boolean;
  migratedHere: boolean;
  /** `domain` is not in the list the services are configured with (`configuredDomains` of the world). */
  unconfiguredDomain: boolean;
  path: string;
  live: boolean;
  endedAt: string | null;
  /** False when the VOD was never saved: no playlist on the CDN at any time. */
  saved: boolean;
  /** The streamer has archiving off (so `saved` is false); otherwise an unsaved VOD was a one-off. */
  archivingOff: boolean;
  /** Whether the playlist answers now, and until when it will (deletion plus the playlist's grace); null: for good or never. */
  onCdn: boolean;
  cdnUntil: string | null;
  /** When the VOD is (or will be) deleted; `deleted` says whether that time has passed. */
  deletedAt: string | null;
  deleted: boolean;
  /** Listed among the streamer's ARCHIVE videos now (saved, not hidden, not deleted). */
  public: boolean;
  hidden: boolean;
  subOnly: boolean;
  /** When it shows up in `user.videos` (a delay after its end in the realistic world); null: never, or not known while live. */
  listedAt: string | null;
  /** Most viewers in any viewer tick so far: whether the stream reached the archiving threshold. */
  peakViewers: number;
  /** A short session under the tracking threshold that the same stream id restarted; no poller saw it. */
  falseStart: boolean;
  /** The streamer's account is less than a day older than this VOD (it joined during the run). */
  newStreamer: boolean;
  streamerCreatedAt: string;
  /** Half-open segment ranges that the mute run renames to N-muted.ts. */
  muted: [number, number][];
  /** The mute run that processes this VOD (first boundary after its end), and whether it has run. */
  muteRunAt: string | null;
  muteApplied: boolean;
  /** Segments in the playlist now, and how many of them are named -muted now. */
  segments: number;
  mutedSegmentsNow: number;
}

const DAY_MS = 86_400_000;

/** When the playlist stops answering: null if never saved (nothing to stop) or never deleted. */
function cdnUntilMs(world: World, vod: Vod): number | null {
  return vod.saved && vod.deletedAtMs !== null ? vod.deletedAtMs + world.options.playlistGraceMs : null;
}

/**
 * Whether a VOD's playlist answers at `atMs`, from its truth: saved, started, not deleted past the playlist's grace.
 * The benchmark's judge of "on the CDN at fetch time".
 */
export function onCdnAt(truth: Pick<VodTruth, "saved" | "startTime" | "cdnUntil">, atMs: number): boolean {
  return (
    truth.saved && atMs >= Date.parse(truth.startTime) && (truth.cdnUntil === null || atMs < Date.parse(truth.cdnUntil))
  );
}

export function truthOf(world: World, vod: Vod): VodTruth {
  const now = world.now;
  const streamer = world.streamerOf(vod);
  const cdnUntil = cdnUntilMs(world, vod);
  const listedAt = world.listedFrom(vod);
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
    homeDomain: vod.homeDomain,
    scattered: vod.domain !== vod.homeDomain,
    migrated: vod.migrations > 0,
    migratedHere: vod.migratedHere,
    unconfiguredDomain: !world.options.configuredDomains.includes(vod.domain),
    path: pathOf(vod),
    live: !vod.ended,
    endedAt: vod.ended ? iso(vod.endMs) : null,
    saved: vod.saved,
    archivingOff: !streamer.savesVods,
    onCdn: vod.saved && (cdnUntil === null || now < cdnUntil),
    cdnUntil: cdnUntil === null ? null : iso(cdnUntil),
    deletedAt: vod.deletedAtMs === null ? null : iso(vod.deletedAtMs),
    deleted: world.isDeleted(vod, now),
    public: world.isListed(vod, now),
    hidden: vod.hidden,
    subOnly: vod.subOnly,
    listedAt: listedAt === null ? null : iso(listedAt),
    peakViewers: world.peakViewers(vod),
    falseStart: vod.falseStartViewers !== null,
    newStreamer: vod.startMs - streamer.createdAtMs < DAY_MS,
    streamerCreatedAt: iso(streamer.createdAtMs),
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
  /** Only VODs that ended in [endedFrom, endedBefore) (Unix ms): a benchmark's due window, without building every truth. */
  endedFrom?: number;
  endedBefore?: number;
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
    if (filter.endedFrom !== undefined && (!vod.ended || vod.endMs < filter.endedFrom)) continue;
    if (filter.endedBefore !== undefined && (!vod.ended || vod.endMs >= filter.endedBefore)) continue;
    if (total >= offset && out.length < limit) out.push(truthOf(world, vod));
    total++;
  }
  return { total, vods: out };
}
