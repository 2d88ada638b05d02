import { sql } from "drizzle-orm";
import type { Db } from "@vod/db";
import type { Logger } from "@vod/log";

/**
 * The streamers who asked to be left out (`vods forget`), read from PostgreSQL at most every
 * `refreshMs`, so their VODs cost no CDN request. Only a saving: the writer is what keeps them out of
 * the archive, so a list a little stale, or unreadable (then the last one read is used), loses nothing.
 */
export class TakedownList {
  #ids = new Set<string>();
  #logins = new Set<string>();
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly refreshMs = 30_000,
  ) {}

  /** Whether a takedown names the streamer: by id, or by login when it recorded no id. */
  async has(streamerId: string, login: string): Promise<boolean> {
    if (performance.now() - this.#loadedAt >= this.refreshMs) await (this.#loading ??= this.#load());
    return this.#ids.has(streamerId) || this.#logins.has(login);
  }

  async #load(): Promise<void> {
    try {
      const { rows } = await this.db.execute<{ streamer_id: string | null; login: string }>(
        sql`select distinct streamer_id::text, login from takedowns`,
      );
      this.#ids = new Set(rows.flatMap((r) => (r.streamer_id === null ? [] : [r.streamer_id])));
      this.#logins = new Set(rows.flatMap((r) => (r.streamer_id === null ? [r.login] : [])));
    } catch (err) {
      this.log.warn({ err }, "the takedowns could not be read; using the last list read");
    } finally {
      this.#loadedAt = performance.now();
      this.#loading = undefined;
    }
  }
}
