import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import fp from "fastify-plugin";
import type { VodCheckRequest } from "@vod/kafka";

const gunzipAsync = promisify(gunzip);

/** Hands a check request to the hls-fetcher (through Kafka); it owns the CDN budget. */
export type AskCheck = (request: VodCheckRequest) => Promise<void>;

export interface PlayableOptions {
  /** Absent: VODs are not checked (their last stored check is still served). */
  ask?: AskCheck;
  /** A check older than this is asked again when the VOD is opened. */
  recheckAfterMs: number;
  /** A VOD asked about is not looked at again for this long, whatever answers. */
  quietMs?: number;
  /** VODs remembered as asked; past it, new ones wait until old ones age out (memory stays bounded). */
  maxRemembered?: number;
  /** A stored playlist larger than this decompressed is not checked. */
  maxPlaylistBytes?: number;
}

/** First, middle and last segment URIs: one request each tells whether a VOD starts, goes on and ends. */
export function sampleSegments(playlist: string): string[] {
  const uris = playlist.split("\n").flatMap((raw) => {
    const line = raw.trim();
    return line !== "" && !line.startsWith("#") ? [line] : [];
  });
  const picks = new Set([0, Math.floor((uris.length - 1) / 2), uris.length - 1]);
  return uris.length === 0 ? [] : [...picks].map((i) => uris[i]!);
}

/** The routes that open a VOD, and how their parameters name it. */
const OPENERS: Record<string, (p: Record<string, unknown>) => { streamId: string; startMs: number } | null> = {
  "/m3u8/:streamId/:unix/index.m3u8": (p) => ({ streamId: String(p.streamId), startMs: Number(p.unix) * 1000 }),
  "/v1/vods/:streamId/:startTime": (p) =>
    p.startTime instanceof Date ? { streamId: String(p.streamId), startMs: p.startTime.getTime() } : null,
};

declare module "fastify" {
  interface FastifyInstance {
    /** Asks for a check of the VOD when its last one is older than a day (or it has none); never throws. */
    checkPlayable(streamId: string, startMs: number): Promise<void>;
  }
}

/**
 * Still playable? Playlists outlive their segments, so a VOD opened (its playlist or its v1 answer served)
 * whose last check is older than `recheckAfterMs` gets a new one: the API picks three segments and asks the
 * fetcher, the writer stores the answer, and the v1 answers and lists show it. The API still writes nothing.
 */
export const playableChecks = fp<PlayableOptions>(
  async (app, o) => {
    const asked = new Map<string, number>();
    const quietMs = o.quietMs ?? 10 * 60_000;
    const maxRemembered = o.maxRemembered ?? 10_000;

    async function checkPlayable(streamId: string, startMs: number): Promise<void> {
      if (!o.ask) return;
      const now = app.clock.now();
      const key = `${streamId}/${startMs}`;
      // Insertion order is time order: the expired are at the front.
      for (const [k, at] of asked) {
        if (now - at < quietMs) break;
        asked.delete(k);
      }
      if (asked.has(key) || asked.size >= maxRemembered) return;
      asked.set(key, now);
      try {
        const rows = await app.db.read<{ streamer_id: string; start: string; gz: Buffer; checked: Date | null }>(
          `select streamer_id::text, to_char(start_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as start,
                  playlist_gz as gz, playable_checked_at as checked
             from vods where stream_id = $1 and start_time >= $2 and start_time < $3
              and outcome = 'found' and playlist_gz is not null
             order by start_time limit 1`,
          [streamId, new Date(startMs), new Date(startMs + 1000)],
        );
        const row = rows[0];
        if (!row || (row.checked && now - row.checked.getTime() < o.recheckAfterMs)) return;
        const text = (await gunzipAsync(row.gz, { maxOutputLength: o.maxPlaylistBytes ?? 16 << 20 })).toString();
        const segments = sampleSegments(text);
        if (segments.length === 0) return;
        await o.ask({
          v: 1,
          streamId,
          startTime: row.start,
          streamerId: row.streamer_id,
          segments,
          requestedAt: new Date(now).toISOString(),
        });
      } catch (err) {
        // A check is a courtesy: the answer the person asked for has gone out already.
        asked.delete(key);
        app.log.warn({ err, streamId }, "asking for a playable check failed");
      }
    }

    app.decorate("checkPlayable", checkPlayable);
    app.addHook("onResponse", async (req, reply) => {
      if (reply.statusCode !== 200 || !o.ask) return;
      const name = OPENERS[req.routeOptions.url ?? ""]?.(req.params as Record<string, unknown>);
      if (name) void checkPlayable(name.streamId, name.startMs);
    });
  },
  { name: "playable-checks", fastify: "5.x", dependencies: ["deps"] },
);
