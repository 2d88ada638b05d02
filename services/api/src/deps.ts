import type { Clock } from "@vod/clock";
import type { ReadPool } from "./db.ts";
import type { SharedCache } from "./shared-cache.ts";

export interface StoredPlaylist {
  gz: Buffer;
  /** Content hash, the base of the ETags. */
  hash: string;
}

export interface AppDeps {
  db: ReadPool;
  clock: Clock;
  /** How long aggregates (/categories, /languages) are reused. */
  aggregateTtlMs: number;
  /** List answers (JSON, UTF-8) by URL, reused for a short time. */
  listCache: SharedCache<Buffer>;
  /** Archived playlists by stream id and start. */
  playlistCache: SharedCache<StoredPlaylist | null>;
  /** Largest playlist decompressed for a client that refuses gzip (bytes); a larger one is answered 406. */
  playlistPlainMaxBytes?: number;
  /** Playlists decompressed at once; one more is answered 503, so their buffers cannot add up without bound. */
  playlistGunzipConcurrency?: number;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Aborts when the client goes away before its answer is sent; queries run with it are cancelled. */
    clientSignal: AbortSignal;
  }
}
