import { VOD_QUALITIES, parseVodPath } from "@vod/twitch";
import type { Malformation } from "./faults.ts";
import type { PathKind } from "./stats.ts";
import { SEGMENT_MS, type Vod } from "./vod.ts";
import type { World } from "./world.ts";

export interface CdnResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  kind: PathKind;
}

export interface CdnOptions {
  /** Hosts that no longer serve VODs: every key is missing. */
  deadDomains: ReadonlySet<string>;
  /** Dead hosts that answer 200 with an unrelated bucket listing (FACTS.md). */
  listingDomains: ReadonlySet<string>;
  /** A deleted VOD's playlist lingers this long after its segments are gone. */
  playlistGraceMs: number;
  /** The body of every segment; by default one MPEG-TS packet. Playback tests give a real, decodable segment. */
  segment?: Buffer;
}

/** The one dead host that still answers, with an unrelated bucket listing (FACTS.md). */
const LISTING_DOMAINS = ["d3aqoihi2n8ty8.cloudfront.net"];

export function cdnOptions(deadDomains: readonly string[], playlistGraceMs: number, segment?: Buffer): CdnOptions {
  return {
    deadDomains: new Set(deadDomains),
    listingDomains: new Set(LISTING_DOMAINS.filter((d) => deadDomains.includes(d))),
    playlistGraceMs,
    ...(segment ? { segment } : {}),
  };
}

const QUALITIES = new Set(VOD_QUALITIES);
const SEGMENT = /^(\d+)(-muted)?\.ts$/;
// A fixed MPEG-TS packet: clients only need a body, and tiny bodies keep benchmarks about requests.
const TS_PACKET = Buffer.alloc(188, 0xff);
TS_PACKET[0] = 0x47;

export function kindOf(path: string): PathKind {
  if (path.endsWith(".m3u8")) return "playlist";
  if (path.endsWith(".ts") || path.endsWith(".mp4")) return "segment";
  return "other";
}

/** S3 behind CloudFront answers a missing key with 403 AccessDenied, never 404. */
export function accessDenied(kind: PathKind): CdnResponse {
  return {
    status: 403,
    kind,
    headers: { "content-type": "application/xml", server: "AmazonS3", "x-cache": "Error from cloudfront" },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>' +
      "<RequestId>0000000000000000</RequestId><HostId>sim</HostId></Error>",
  };
}

function bucketListing(): CdnResponse {
  return {
    status: 200,
    kind: "other",
    headers: { "content-type": "application/xml", server: "AmazonS3" },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      "<Name>unrelated-assets</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>" +
      "<Contents><Key>favicon.ico</Key><Size>1150</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
  };
}

/** Answers one CDN request for `path` (relative to the domain root) on `domain`; `malformed` spoils a playlist (a `malformed` fault). */
export function serveCdn(
  world: World,
  options: CdnOptions,
  domain: string,
  path: string,
  malformed?: (login: string) => Malformation | null,
): CdnResponse {
  const kind = kindOf(path);
  if (options.listingDomains.has(domain)) return bucketListing();
  if (options.deadDomains.has(domain)) return accessDenied(kind);
  const parsed = parseVodPath(path);
  if (!parsed || parsed.quality === undefined || parsed.file === undefined || !QUALITIES.has(parsed.quality)) {
    return accessDenied(kind);
  }
  const vod = world.vodByKey(`${parsed.hash}_${parsed.login}_${parsed.streamId}_${parsed.ts}`);
  if (!vod || vod.domain !== domain || !vod.saved) return accessDenied(kind);
  const now = world.now;
  const deletedAt = vod.deletedAtMs;
  if (parsed.file === "index-dvr.m3u8") {
    if (deletedAt !== null && now >= deletedAt + options.playlistGraceMs) return accessDenied(kind);
    const spoil = malformed?.(vod.login) ?? null;
    const body = renderPlaylist(world, vod, now);
    return {
      status: 200,
      kind,
      headers: { "content-type": "application/vnd.apple.mpegurl", "x-cache": "Miss from cloudfront" },
      body: spoil ? spoilPlaylist(body, spoil) : body,
    };
  }
  const seg = SEGMENT.exec(parsed.file);
  if (!seg || (deletedAt !== null && now >= deletedAt)) return accessDenied(kind);
  const n = Number(seg[1]);
  if (n >= segmentCount(world, vod, now)) return accessDenied(kind);
  // After the mute run a muted segment exists only under its -muted name, and before it only under its plain name.
  const renamed = world.isMuteApplied(vod, now) && isMuted(vod, n);
  if (renamed !== (seg[2] === "-muted")) return accessDenied(kind);
  return {
    status: 200,
    kind,
    headers: { "content-type": "video/mp2t", "access-control-allow-origin": "*" },
    body: options.segment ?? TS_PACKET,
  };
}

/** URIs a stored playlist must never carry: other schemes, other hosts, the cloud metadata address. */
export const HOSTILE_URIS = [
  "file:///etc/passwd",
  "//elsewhere.example/0.ts",
  "http://169.254.169.254/latest/meta-data/",
  "javascript:alert(1)",
];

/** A playlist as a `malformed` fault serves it; ENDLIST stays last, so the VOD still reads as ended. */
function spoilPlaylist(body: string, how: Malformation): string {
  // An unclosed IPv6 host: a URI that no URL parser resolves.
  const broken = body.replace(/^(\d+)(-muted)?\.(ts|mp4)$/m, "http://[$1/$1.$3");
  if (how.mode === "broken") return broken;
  const end = broken.endsWith("#EXT-X-ENDLIST\n") ? "#EXT-X-ENDLIST\n" : "";
  const head = broken.slice(0, broken.length - end.length);
  if (how.mode === "hostile") {
    const extra = HOSTILE_URIS.map((u) => `#EXTINF:10.000,\n${u}\n`).join("");
    return `${head}#EXT-X-KEY:METHOD=AES-128,URI="http://169.254.169.254/key"\n${extra}${end}`;
  }
  // Two bytes a segment: the shortest line that still lists one.
  const pad = Math.max(0, how.bytes - head.length - end.length);
  return head + "0\n".repeat(Math.floor(pad / 2)) + end;
}

export function isMuted(vod: Vod, segment: number): boolean {
  const m = vod.muted;
  for (let i = 0; i + 1 < m.length; i += 2)
    if (segment >= (m[i] as number) && segment < (m[i + 1] as number)) return true;
  return false;
}

/** Segments listed now: only whole ones while live, plus the final partial one once ended. */
export function segmentCount(world: World, vod: Vod, now: number): number {
  const ms = world.durationMs(vod, now);
  return vod.ended ? Math.ceil(ms / SEGMENT_MS) : Math.floor(ms / SEGMENT_MS);
}

const tdtg = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

/** The playlist in Twitch's format (FACTS.md): EVENT type, no ENDLIST while live. */
export function renderPlaylist(world: World, vod: Vod, now: number): string {
  const count = segmentCount(world, vod, now);
  const totalMs = vod.ended ? world.durationMs(vod, now) : count * SEGMENT_MS;
  const muteApplied = world.isMuteApplied(vod, now);
  const written = muteApplied ? (world.muteRunAt(vod) as number) : vod.ended ? vod.endMs : now;
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    "#EXT-X-TARGETDURATION:10",
    `#ID3-EQUIV-TDTG:${tdtg(written)}`,
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-TWITCH-ELAPSED-SECS:0.000",
    `#EXT-X-TWITCH-TOTAL-SECS:${Math.floor(totalMs / 1000).toFixed(3)}`,
  ];
  for (let i = 0; i < count; i++) {
    const len = Math.min(SEGMENT_MS, totalMs - i * SEGMENT_MS) / 1000;
    lines.push(`#EXTINF:${len.toFixed(3)},`, muteApplied && isMuted(vod, i) ? `${i}-muted.ts` : `${i}.ts`);
  }
  if (vod.ended) lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}
