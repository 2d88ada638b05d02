import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { cached } from "./cache.ts";

const CATEGORIES_LIMIT = 200;

const tags = ["compatible"];
const categoriesSchema = z.array(z.object({ GameID: z.string(), GameName: z.string(), Count: z.number().int() }));
const languagesSchema = z.array(z.object({ Language: z.string(), Count: z.number().int() }));

/** `/categories` and `/languages` of the compatible routes: aggregates over the archive, each reused for `ttlMs`. */
export const compatAggregates: FastifyPluginAsyncZod<{ ttlMs: number }> = async (app, o) => {
  const { db, clock } = app;

  const categories = cached(o.ttlMs, async () => {
    const since = new Date(clock.now() - 24 * 3_600_000);
    const rows = await db.read<{ game_id: string; game_name: string | null; count: number }>(
      `select game_id, max(game_name) as game_name, count(*)::int as count from vods
        where start_time >= $1 and game_id is not null
        group by game_id order by count(*) desc, game_id limit ${CATEGORIES_LIMIT}`,
      [since],
    );
    return rows.map((c) => ({ GameID: c.game_id, GameName: c.game_name ?? "", Count: c.count }));
  });
  app.get(
    "/categories",
    {
      schema: {
        tags,
        summary: "The 200 categories with the most VODs started in the last 24 hours",
        response: { 200: categoriesSchema },
      },
    },
    () => categories(),
  );

  const languages = cached(o.ttlMs, async () => {
    const rows = await db.read<{ language: string; count: number }>(
      `select language, count(*)::int as count from vods where outcome = 'found' and language is not null group by language order by count(*) desc, language`,
      [],
    );
    return rows.map((l) => ({ Language: l.language, Count: l.count }));
  });
  app.get(
    "/languages",
    {
      schema: {
        tags,
        summary: "Languages of the archived VODs, with their counts",
        response: { 200: languagesSchema },
      },
    },
    () => languages(),
  );
};
