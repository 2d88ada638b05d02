import { z } from "zod";
import { duration, list, parseEnv, pattern } from "@vod/config";
import { LIVE_VOD_DOMAINS, TWITCH_GQL_ENDPOINT, TWITCH_WEB_CLIENT_ID } from "@vod/twitch";

/** `vods recover` and `vods download` read these; the CDN and GQL settings mean what they mean for the hls-fetcher. */
export const recoverEnvSchema = z.object({
  DATABASE_URL: z.string().default("postgres://vod:vod@127.0.0.1:15432/vod"),
  CDN_DOMAINS: list(LIVE_VOD_DOMAINS),
  CDN_URL_TEMPLATE: z.string().includes("{domain}").default("https://{domain}/"),
  CDN_DISCOVERABLE: pattern(String.raw`^(d[a-z0-9]{8,20}\.cloudfront\.net|vod-[a-z0-9-]+\.twitch\.tv)$`),
  GQL_ENDPOINT: z.string().url().default(TWITCH_GQL_ENDPOINT),
  GQL_CLIENT_ID: z.string().min(1).default(TWITCH_WEB_CLIENT_ID),
  GQL_TIMEOUT: duration("5s"),
  /** Where the API serves archived playlists (`/m3u8/{streamId}/{unix}/index.m3u8`). */
  API_URL: z.string().url().default("http://127.0.0.1:8080"),
  /** At most this many CDN requests per window per run: a quarter of CloudFront's default rate rule (2,000 per 5 minutes). */
  RECOVER_BUDGET: z.coerce.number().int().min(1).default(500),
  RECOVER_WINDOW: duration("5m"),
  RECOVER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  CONNECT_TIMEOUT: duration("3s"),
  HEADERS_TIMEOUT: duration("5s"),
  BODY_TIMEOUT: duration("10s"),
  REQUEST_TIMEOUT: duration("15s"),
  DB_TIMEOUT: duration("3s"),
  DOMAIN_SCORE_HALF_LIFE: duration("6h"),
});
export type RecoverEnv = z.infer<typeof recoverEnvSchema>;
export const loadRecoverEnv = (): RecoverEnv => parseEnv(recoverEnvSchema);
