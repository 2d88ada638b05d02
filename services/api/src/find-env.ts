import { z } from "zod";
import { duration, list, pattern } from "@vod/config";
import { LIVE_VOD_DOMAINS, TWITCH_GQL_ENDPOINT, TWITCH_WEB_CLIENT_ID } from "@vod/twitch";

/** The page's Find: who the client is, the fetchers' CDN budget it shares, its limits, and what a search asks. */
export const findEnv = {
  /**
   * Who the client is when the API sits behind a proxy (Fastify's trustProxy): `true`, a hop count, or the
   * proxy's addresses (comma-separated). Unset: the socket's address, which a client cannot fake. The page's
   * search limits are per client: behind a proxy without this, every client is the proxy.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((raw): boolean | number | string =>
      raw === undefined || raw === "" ? false : raw === "true" ? true : /^\d+$/.test(raw) ? Number(raw) : raw,
    ),
  /**
   * Redis holding the fetchers' CDN budget (their REDIS_URL). Unset: Find answers from the archive only, since
   * a CDN search would spend requests no budget counts.
   */
  REDIS_URL: z
    .string()
    .optional()
    .refine((u) => u === undefined || /^rediss?:\/\/[^/]+/.test(u), "expected redis://host:port"),
  REDIS_COMMAND_TIMEOUT: duration("2s"),
  /** The fetchers' CDN_EGRESS: the page's searches take their turns from that egress's budget. */
  CDN_EGRESS: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, "letters, digits, . _ : -")
    .default("default"),
  /** The fetchers' RATE_PER_SECOND and RATE_SLACK; the spacing they last used, kept in Redis, wins when wider. */
  RATE_PER_SECOND: z.coerce.number().positive().default(3),
  RATE_SLACK: duration("30ms", { allowZero: true }).refine((ms) => ms < 1000, "must be under 1s"),
  /**
   * Of the rate, what the page's searches may take while the fetchers use every turn; the turns the fetchers
   * leave are theirs too. Fetchers and searches together never pass the rate.
   */
  FIND_CDN_SHARE: z.coerce.number().gt(0).max(1).default(0.2),
  /** CDN requests one search may send per FIND_WINDOW; past it the search waits, and the page says how long. */
  FIND_BUDGET: z.coerce.number().int().min(1).default(300),
  FIND_WINDOW: duration("5m"),
  /** CDN requests of one search in flight at once. */
  FIND_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  /** Searches running at once, all clients together; one more is refused (429) saying when to ask again. */
  FIND_MAX_RUNNING: z.coerce.number().int().min(1).default(4),
  /** Searches one client (address) may start per hour; it runs one at a time. */
  FIND_PER_CLIENT_PER_HOUR: z.coerce.number().int().min(1).default(10),
  /** How long a finished search (its playlist, for Play and mpv) is kept in memory. */
  FIND_KEEP: duration("1h"),
  /** Segments of a VOD found on the CDN checked (first, middle, last for 3); 0: none. */
  FIND_CHECK_SEGMENTS: z.coerce.number().int().min(0).default(3),
  /** CDN domains, their URL template and the hosts GQL may teach, as for the hls-fetcher. */
  CDN_DOMAINS: list(LIVE_VOD_DOMAINS),
  CDN_URL_TEMPLATE: z.string().includes("{domain}").default("https://{domain}/"),
  CDN_DISCOVERABLE: pattern(String.raw`^(d[a-z0-9]{12,13}\.cloudfront\.net|vod-[a-z0-9-]{1,40}\.twitch\.tv)$`),
  /** Twitch's GraphQL, for a video link's stream and a channel's listing. */
  GQL_ENDPOINT: z.url().default(TWITCH_GQL_ENDPOINT),
  GQL_CLIENT_ID: z.string().min(1).default(TWITCH_WEB_CLIENT_ID),
  GQL_TIMEOUT: duration("5s"),
  /** Timeouts of one CDN request: connect, headers, body, and the whole request. */
  CONNECT_TIMEOUT: duration("3s"),
  HEADERS_TIMEOUT: duration("5s"),
  BODY_TIMEOUT: duration("10s"),
  REQUEST_TIMEOUT: duration("15s"),
};
