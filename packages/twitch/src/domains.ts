/**
 * CDN hosts seen serving VOD playlists (FACTS.md). The list churns, so services take theirs
 * from configuration; these are only the defaults.
 */
export const LIVE_VOD_DOMAINS: readonly string[] = [
  "vod-secure.twitch.tv",
  "vod-metro.twitch.tv",
  "vod-pop-secure.twitch.tv",
  "d1m7jfoe9zdc1j.cloudfront.net",
  "d1mhjrowxxagfy.cloudfront.net",
  "d1ymi26ma8va5x.cloudfront.net",
  "d2nvs31859zcd8.cloudfront.net",
  "d2vjef5jvl6bfs.cloudfront.net",
  "d3vd9lfkzbru3h.cloudfront.net",
  "dgeft87wbj63p.cloudfront.net",
  "dqrpb9wgowsf5.cloudfront.net",
  "ds0h3roq6wcgc.cloudfront.net",
  "d3fi1amfgojobc.cloudfront.net",
  "d2vi6trrdongqn.cloudfront.net",
  "d1ndex63qxojbr.cloudfront.net",
];

/** Hosts that used to serve VODs and no longer do; kept so nobody re-adds them by accident. */
export const DEAD_VOD_DOMAINS: readonly string[] = [
  "d2e2de1etea730.cloudfront.net",
  "d2aba1wr3818hz.cloudfront.net",
  "d3c27h4odz752x.cloudfront.net",
  "ddacn6pr5v0tl.cloudfront.net",
  // Answers 200 with an unrelated S3 bucket listing instead of 403.
  "d3aqoihi2n8ty8.cloudfront.net",
];

/** Renditions a VOD is stored in; `chunked` is the source quality. */
export const VOD_QUALITIES: readonly string[] = [
  "chunked",
  "1080p60",
  "720p60",
  "480p30",
  "360p30",
  "160p30",
  "audio_only",
];
