import fp from "fastify-plugin";
import { Gauge, type Registry } from "prom-client";
import { SharedCache } from "./shared-cache.ts";

export interface StoredPlaylist {
  gz: Buffer;
  /** Content hash, the base of the ETags. */
  hash: string;
}

declare module "fastify" {
  interface FastifyInstance {
    /** List answers (JSON, UTF-8) by URL, reused for a short time. */
    listCache: SharedCache<Buffer>;
    /** Archived playlists by stream id and start. */
    playlistCache: SharedCache<StoredPlaylist | null>;
  }
}

export interface CacheLimits {
  /** How long an answer is reused (0: never). */
  ttlMs?: number;
  /** Bytes and entries the reused answers may take. */
  maxBytes?: number;
  maxEntries?: number;
}

export interface AnswerCachesOptions {
  registry: Registry;
  list: CacheLimits;
  playlist: CacheLimits;
}

/** The list and playlist caches, decorated on the root instance, closed with it, and their use as gauges. */
export const answerCaches = fp<AnswerCachesOptions>(
  async (app, o) => {
    const listCache = new SharedCache<Buffer>({
      ttlMs: o.list.ttlMs ?? 0,
      maxBytes: o.list.maxBytes ?? 8 * 1024 * 1024,
      maxEntries: o.list.maxEntries ?? 10_000,
      sizeOf: (v) => (v as Buffer).length,
    });
    const playlistCache = new SharedCache<StoredPlaylist | null>({
      ttlMs: o.playlist.ttlMs ?? 0,
      maxBytes: o.playlist.maxBytes ?? 8 * 1024 * 1024,
      maxEntries: o.playlist.maxEntries ?? 2_000,
      sizeOf: (v) => (v as StoredPlaylist).gz.length,
    });
    app.decorate("listCache", listCache);
    app.decorate("playlistCache", playlistCache);
    app.addHook("onClose", async () => {
      listCache.close();
      playlistCache.close();
    });
    cacheGauges(o.registry, [
      ["list", listCache],
      ["playlist", playlistCache],
    ]);
  },
  { name: "answer-caches", fastify: "5.x" },
);

/** What the gauges read of a cache. */
type CacheUse = Pick<SharedCache<unknown>, "hits" | "misses" | "size" | "bytes">;

function cacheGauges(registry: Registry, caches: readonly (readonly [string, CacheUse])[]): void {
  new Gauge({
    name: "api_cache_requests",
    help: "Requests answered from a cache (hit) or that computed or waited for an answer (miss), by cache",
    labelNames: ["cache", "result"],
    registers: [registry],
    collect() {
      for (const [cache, c] of caches) {
        this.set({ cache, result: "hit" }, c.hits);
        this.set({ cache, result: "miss" }, c.misses);
      }
    },
  });
  new Gauge({
    name: "api_cache_entries",
    help: "Answers held by a cache",
    labelNames: ["cache"],
    registers: [registry],
    collect() {
      for (const [cache, c] of caches) this.set({ cache }, c.size);
    },
  });
  new Gauge({
    name: "api_cache_bytes",
    help: "Bytes held by a cache, keys included",
    labelNames: ["cache"],
    registers: [registry],
    collect() {
      for (const [cache, c] of caches) this.set({ cache }, c.bytes);
    },
  });
}
