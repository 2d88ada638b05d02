import { z } from "zod";
import { clockEnv } from "@vod/clock";
import { bool, duration, list, parseEnv, port, pattern } from "@vod/config";
import { DEAD_VOD_DOMAINS, LIVE_VOD_DOMAINS, TWITCH_GQL_ENDPOINT, TWITCH_WEB_CLIENT_ID } from "@vod/twitch";

const schema = z
  .object({
    KAFKA_BROKERS: list(["127.0.0.1:19092"]),
    TOPIC_PREFIX: z.string().default(""),
    DATABASE_URL: z.string().url().default("postgres://vod:vod@127.0.0.1:15432/vod"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    GROUP_ID: z.string().min(1).default("hls-fetcher"),
    /** CDN hosts to try, in the order used before anything is learned. */
    CDN_DOMAINS: list(LIVE_VOD_DOMAINS).refine((d) => d.length > 0, "at least one domain"),
    /** Root URL of a domain; `{domain}` is replaced. The simulator: http://127.0.0.1:8900/cdn/{domain}/ */
    CDN_URL_TEMPLATE: z
      .string()
      .default("https://{domain}/")
      .refine(
        (t) => t.includes("{domain}") && /^https?:\/\/.+\/$/.test(t),
        "expected an http(s) URL ending in / with {domain}, e.g. https://{domain}/",
      ),
    /** HTTP requests per second to the CDN, all domains together: per egress address, across every fetcher that shares it. */
    RATE_PER_SECOND: z.coerce.number().positive().default(3),
    /**
     * Redis holding the CDN budget (Bottleneck's clustering), e.g. redis://127.0.0.1:16379. Unset: the
     * budget is this process's own, and it refuses to start beside another fetcher of its group.
     */
    REDIS_URL: z
      .string()
      .optional()
      .refine((u) => u === undefined || /^rediss?:\/\/[^/]+/.test(u), "expected redis://host:port"),
    /** Longest wait for one command of REDIS_URL: a Redis that holds the connection but never answers fails requests' turns after it. */
    REDIS_COMMAND_TIMEOUT: duration("2s"),
    /**
     * The egress (public address) this fetcher's requests leave from: fetchers naming the same egress share
     * one budget of RATE_PER_SECOND. The default puts every fetcher on the Redis behind one address; give
     * each egress its own name (its address, say) for a budget per egress.
     */
    CDN_EGRESS: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, "letters, digits and . _ : - only")
      .default("default"),
    /**
     * How much request arrivals may bunch on their way to the CDN (network, busy event loops), per second
     * of budget: left spare so no second at the server sees more than RATE_PER_SECOND.
     */
    RATE_SLACK: duration("30ms", { allowZero: true }).refine((ms) => ms < 1000, "must be under 1s"),
    /** Slowest rate a run of 429s can push the limiter to. */
    RATE_FLOOR_PER_SECOND: z.coerce.number().positive().default(0.2),
    CONNECT_TIMEOUT: duration("3s"),
    HEADERS_TIMEOUT: duration("5s"),
    BODY_TIMEOUT: duration("10s"),
    /** Whole request, from start to the last body byte. */
    REQUEST_TIMEOUT: duration("15s"),
    /** Retries of one URL after a timeout, reset, 5xx or 429, before its domain counts as failed for this VOD. */
    REQUEST_RETRIES: z.coerce.number().int().nonnegative().default(2),
    RETRY_BACKOFF: duration("500ms"),
    /** After this many failures in a row a domain is skipped (its VODs come out failed) until the cooldown passes. */
    DOMAIN_FAILURE_THRESHOLD: z.coerce.number().int().positive().default(3),
    /** Clock time a failing domain is skipped before one probe is let through. */
    DOMAIN_COOLDOWN: duration("2m"),
    /** Half-life of a domain's success score (clock time). */
    DOMAIN_SCORE_HALF_LIFE: duration("6h"),
    /** Streamers whose history is kept in memory (least recently used dropped first); others are read from Postgres when needed. */
    STREAMER_CACHE_SIZE: z.coerce.number().int().positive().default(100_000),
    /** How long a streamer's history read from Postgres is used before it is read again (other fetchers learn too). */
    STREAMER_CACHE_TTL: duration("10m"),
    /** VODs fetched at the same time, every partition's batch and the retries together; they share the one limiter. */
    CONCURRENCY: z.coerce.number().int().positive().default(8),
    /** Partitions whose batches are fetched at once: while one batch waits on its slowest VOD, the others use the free slots. */
    PARTITIONS_CONCURRENTLY: z.coerce.number().int().positive().default(3),
    BATCH_MAX_MESSAGES: z.coerce.number().int().positive().default(32),
    /**
     * Largest fetch result (JSON bytes); a larger one is published as failed instead, naming its size. Below
     * the results topic's max.message.bytes (the broker's default is 1 MB), so one result can never stop a batch.
     */
    RESULT_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(4_096)
      .max(1_000_000)
      .default(768 * 1024),
    /**
     * Caps on a playlist from the CDN; a VOD over one is failed for good, naming the cap. A 48-hour VOD
     * of 10 s segments has 17,280 segments, about 0.5 MB as received and 2.3 MB with absolute URIs.
     */
    PLAYLIST_MAX_SEGMENTS: z.coerce.number().int().positive().default(50_000),
    /**
     * A VOD found live (no #EXT-X-ENDLIST, or GQL listing it live) at this many fetches is failed for good,
     * so a playlist that never ends is not fetched every hour for ever.
     */
    LIVE_RESULT_LIMIT: z.coerce.number().int().min(1).default(6),
    /** Below the HTTP body cap (8 MiB): a body between the two is refused for good rather than retried. */
    PLAYLIST_MAX_INPUT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(8 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    PLAYLIST_MAX_OUTPUT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    /**
     * Whether the streamer's archive listing is asked of GQL before any CDN request: a listed VOD costs
     * one request, and the listing gives its visibility (public, sub only).
     */
    GQL_LOOKUP: bool(true),
    GQL_ENDPOINT: z.url().default(TWITCH_GQL_ENDPOINT),
    GQL_CLIENT_ID: z.string().min(1).default(TWITCH_WEB_CLIENT_ID),
    /** GQL POSTs per second (real time): its own budget, apart from the CDN's. */
    GQL_RATE: z.coerce.number().positive().default(2),
    /** Streamers looked up per POST, and how long a lookup waits for others to share its POST. */
    GQL_BATCH: z.coerce.number().int().min(1).max(35).default(10),
    GQL_BATCH_WAIT: duration("200ms", { allowZero: true }),
    /** Whole lookup, queue included; past it the CDN is searched without the listing. */
    GQL_TIMEOUT: duration("3s"),
    /** Largest GQL answer read (bytes); a larger one fails its lookup, and the CDN is searched without it. */
    GQL_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(4 * 1024 * 1024),
    /**
     * Hosts a seekPreviewsURL may teach as CDN domains (a regular expression; CloudFront names a distribution
     * d + 12 or 13 characters); others, and CDN_DEAD_DOMAINS, are never requested. A host is learned only once
     * it served a playlist, and checked against this again whenever learned domains are read.
     */
    CDN_DISCOVERABLE: pattern(String.raw`^(d[a-z0-9]{12,13}\.cloudfront\.net|vod-[a-z0-9-]{1,40}\.twitch\.tv)$`),
    /** Hosts that no longer serve VODs: never learned nor requested for a seekPreviewsURL (FACTS.md's dead ones). */
    CDN_DEAD_DOMAINS: list(DEAD_VOD_DOMAINS),
    /** A learned domain is forgotten after this long (clock time) without a playlist from it. */
    DOMAIN_LEARNED_TTL: duration("14d"),
    /** The search stops once the VOD is on the CDN with less than this probability; 0 searches every candidate. */
    STOP_PROBABILITY: z.coerce.number().min(0).max(1).default(0.03),
    /** The deep search (leftover budget) gives a VOD up below this probability, or this long after it began. */
    DEEP_STOP_PROBABILITY: z.coerce.number().min(0).max(1).default(0.005),
    /** The same, when finding the VOD would tell whether its streamer hides its archives or saves none. */
    DEEP_STOP_PROBABILITY_STREAMER: z.coerce.number().min(0).max(1).default(0.0005),
    DEEP_SEARCH_FOR: duration("12h"),
    /** Failed VODs are retried by themselves: first after RETRY_INITIAL (clock time), doubling up to RETRY_MAX, for RETRY_FOR. */
    RETRY_INITIAL: duration("2m"),
    RETRY_MAX: duration("30m"),
    RETRY_FOR: duration("24h"),
    /** How often (real time) due retries and the deep search are looked at. */
    FOLLOWUP_POLL: duration("1s"),
    /** This many 403s for VODs GQL lists, within BLOCK_WINDOW, is a block (CloudFront's WAF answers 403): slow down, fail, retry. */
    BLOCK_403_THRESHOLD: z.coerce.number().int().positive().default(3),
    BLOCK_WINDOW: duration("2m"),
    BLOCK_HOLD: duration("5m"),
    /** Real time between the consumer dying and the exit (status 1), so /healthz can report it. */
    FATAL_EXIT_DELAY: duration("5s", { allowZero: true }),
    OPS_PORT: port(9103),
    /** Where /healthz and /metrics listen; 0.0.0.0 in containers, so Prometheus can scrape them. */
    OPS_HOST: z.string().min(1).default("127.0.0.1"),
    ...clockEnv,
  })
  .refine((e) => e.RETRY_MAX >= e.RETRY_INITIAL, { path: ["RETRY_MAX"], message: "must be at least RETRY_INITIAL" })
  .transform((e) => ({ ...e, CDN_DISCOVERABLE: excluding(e.CDN_DISCOVERABLE, e.CDN_DEAD_DOMAINS) }));

/** `pattern`, refusing these exact hosts whatever it says. */
function excluding(pattern: RegExp, hosts: readonly string[]): RegExp {
  if (hosts.length === 0) return pattern;
  const escaped = hosts.map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  return new RegExp(`^(?!(?:${escaped})$)(?:${pattern.source})`, pattern.flags);
}

export type FetcherEnv = z.output<typeof schema>;

/** The playlist caps the fetcher applies (VodFetcherOptions.playlist). */
export const playlistCaps = (env: FetcherEnv) => ({
  maxSegments: env.PLAYLIST_MAX_SEGMENTS,
  maxInputBytes: env.PLAYLIST_MAX_INPUT_BYTES,
  maxOutputBytes: env.PLAYLIST_MAX_OUTPUT_BYTES,
});

export function readEnv(env: Record<string, string | undefined> = process.env): FetcherEnv {
  return parseEnv(schema, env);
}
