/** The URL lists the phases rotate through, written one a line for the wrk scripts. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

const LANGS = ["EN", "ES", "PT", "DE", "RU", "FR", "JA", "KO", "IT", "PL"];
const STREAMERS = 5_000;

/** Deterministic, so two runs send the same URLs. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  // mulberry32: 32-bit integer arithmetic throughout (a float LCG loses its low bits and falls into short cycles).
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

export interface UrlFiles {
  shared: string;
  perQuery: string;
  playlists: string;
  perQueryCount: number;
}

/**
 * Shared answers: the hot set a front page asks for (channels of 20 popular streamers, the lists by
 * viewers for every language and 20 categories, `/v1/vods` first pages), 64 URLs in all. Few enough
 * that each is asked many times within the cache's second even at a few hundred requests a second;
 * with 600 (channels of 200 streamers, all 300 categories) a slow second left every URL uncached,
 * which made the next second slower still.
 */
function sharedPaths(games: string[]): string[] {
  const paths = [
    "/all/public",
    "/all/private",
    "/v1/vods?limit=50",
    "/v1/vods?outcome=found",
    ...LANGS.map((l) => `/language/@${l}/all/public`),
    ...LANGS.map((l) => `/v1/vods?language=${l}`),
    ...games.slice(0, 20).map((g) => `/category/@${g}/all/public`),
    ...Array.from({ length: 20 }, (_, i) => `/channels/@user${i}`),
  ];
  const rnd = random(7);
  return Array.from({ length: 640 }, () => paths[rnd(paths.length)]!);
}

/**
 * Requests that each need a query: 60,000 distinct URLs (distinct channels, search terms, v1 filters,
 * random pages by time and by cursor), so at the rates measured none repeats within the cache's second.
 */
function perQueryPaths(games: string[], cursors: string[], span: { from: number; to: number }): string[] {
  const rnd = random(11);
  const paths = new Set<string>();
  for (let i = 0; paths.size < 60_000; i++) {
    const user = `user${rnd(STREAMERS)}`;
    const limit = 10 + rnd(91);
    const at = new Date(span.from + rnd(1_000_000) * ((span.to - span.from) / 1_000_000)).toISOString();
    switch (i % 7) {
      case 0:
        paths.add(`/channels/@${user}`);
        break;
      case 1:
        paths.add(`/search/${user.slice(0, 5 + rnd(4))}`);
        break;
      case 2:
        paths.add(`/v1/vods?login=${user}&limit=${limit}`);
        break;
      case 3:
        // A category alone: in the seeded data each category has one language, and a filter that matches
        // nothing walks the whole table in start-time order (about 1 s over 1,000,000 rows).
        paths.add(`/v1/vods?gameId=${games[rnd(games.length)]}&limit=${limit}`);
        break;
      case 4:
        paths.add(`/v1/vods?to=${at}&outcome=found&limit=${limit}`);
        break;
      case 5:
        paths.add(`/v1/vods?language=${LANGS[rnd(10)]}&to=${at}&limit=${limit}`);
        break;
      default:
        if (cursors.length) paths.add(cursors[rnd(cursors.length)]!);
    }
  }
  const list = [...paths];
  for (let i = list.length - 1; i > 0; i--) {
    const j = rnd(i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** Second pages of 2,000 listings (a streamer's VODs at a given page size), from cursors the API issued. */
async function collectCursors(base: string): Promise<string[]> {
  const rnd = random(3);
  const wanted = Array.from({ length: 2_000 }, () => `login=user${rnd(STREAMERS)}&limit=${5 + rnd(20)}`);
  const out: string[] = [];
  for (let i = 0; i < wanted.length; i += 16) {
    const pages = await Promise.all(
      wanted.slice(i, i + 16).map(async (q) => {
        const res = await fetch(`${base}/v1/vods?${q}`);
        const page = res.ok ? ((await res.json()) as { next: string | null }) : { next: null };
        return page.next ? `/v1/vods?${q}&cursor=${page.next}` : null;
      }),
    );
    for (const p of pages) if (p) out.push(p);
  }
  return out;
}

export async function writeUrlFiles(dbUrl: string, base: string, dir: string): Promise<UrlFiles> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
  const playlists = (
    await pool.query<{ stream_id: string; unix: number }>(
      `select stream_id, floor(extract(epoch from start_time))::bigint as unix from vods where playlist_gz is not null limit 2000`,
    )
  ).rows.map((p) => `/m3u8/${p.stream_id}/${p.unix}/index.m3u8`);
  const games = (
    await pool.query<{ game_id: string }>("select distinct game_id from vods where game_id is not null limit 300")
  ).rows.map((r) => r.game_id);
  const span = (
    await pool.query<{ from: Date; to: Date }>(`select min(start_time) as "from", max(start_time) as "to" from vods`)
  ).rows[0]!;
  await pool.end();
  const cursors = await collectCursors(base);
  const perQuery = perQueryPaths(games, cursors, { from: span.from.getTime(), to: span.to.getTime() });
  const files = {
    shared: join(dir, "shared.txt"),
    perQuery: join(dir, "per-query.txt"),
    playlists: join(dir, "playlists.txt"),
    perQueryCount: perQuery.length,
  };
  writeFileSync(files.shared, sharedPaths(games).join("\n") + "\n");
  writeFileSync(files.perQuery, perQuery.join("\n") + "\n");
  writeFileSync(files.playlists, playlists.join("\n") + "\n");
  return files;
}
