import fp from "fastify-plugin";

/** How often the newest takedown is looked up: a forget reaches every cached answer within this. */
export const TAKEDOWN_POLL_MS = 2_000;

/**
 * Empties the answer caches when a takedown is recorded (`vods forget`), so a playlist or list cached
 * before it (for up to PLAYLIST_CACHE_TTL) is not served after it: the routes then answer 410. One
 * indexed lookup of the newest takedown every TAKEDOWN_POLL_MS while a cache is on; a failed one is tried again.
 */
export const takedownWatch = fp(
  async (app) => {
    // Nothing is reused, so nothing can outlive a forget.
    if (!app.listCache.enabled && !app.playlistCache.enabled) return;
    let newest: string | undefined;
    const poll = async () => {
      const rows = await app.db.read<{ id: string }>("select coalesce(max(id), 0)::text as id from takedowns", []);
      const id = rows[0]?.id;
      if (newest !== undefined && id !== newest) {
        app.listCache.clear();
        app.playlistCache.clear();
      }
      newest = id;
    };
    const timer = setInterval(() => {
      poll().catch((err: unknown) => app.log.debug({ err }, "takedown lookup failed; tried again"));
    }, TAKEDOWN_POLL_MS);
    timer.unref();
    app.addHook("onClose", async () => clearInterval(timer));
    void poll().catch(() => undefined);
  },
  { name: "takedown-watch", fastify: "5.x", dependencies: ["answer-caches", "deps"] },
);
