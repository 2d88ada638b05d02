// The writer's sweep updates of live VODs stay HOT (no index entries) at the fillfactor the migrations
// give `vods`; at PostgreSQL's default of 100 they do not. Measured with pg_stat_user_tables. The
// sweeps here see each VOD below its first count: an update that raises max_viewers cannot be HOT,
// since the API's lists by viewers index it (migration 0004), so only those cost index entries.
import { afterAll, describe, expect, it } from "vitest";
import { withTransaction } from "@vod/db";
import type { StreamSnapshot } from "@vod/kafka";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { mergeSnapshots, upsertSnapshots } from "@vod/writer";

const VODS = 3_000;
const SWEEPS = 3;
const T0 = Date.UTC(2025, 0, 6, 12);
const dbs: TestDatabase[] = [];

afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

const sweep = (n: number): StreamSnapshot[] =>
  Array.from({ length: VODS }, (_, i) => ({
    v: 1 as const,
    sweepId: `s${n}`,
    observedAt: new Date(T0 + n * 300_000).toISOString(),
    streamId: String(70_000_000_000 + i),
    startTime: new Date(T0 - i * 1_000).toISOString(),
    streamerId: String(7_000_000 + i),
    login: `hot_${i}`,
    viewers: 500 - n * 100 + (i % 50),
    title: `A title of ordinary length, number ${i}`,
    gameId: String(i % 40),
    gameName: `Game ${i % 40}`,
    language: "en",
    mature: false,
  }));

/** Updates of `vods` during the sweeps after the first sighting, and how many were HOT. */
async function sweepUpdates(fillfactor?: number): Promise<{ updates: number; hot: number }> {
  const t = await freshDatabase();
  dbs.push(t);
  if (fillfactor !== undefined) await t.pool.query(`alter table vods set (fillfactor = ${fillfactor})`);
  const write = async (n: number) => withTransaction(t.db, (tx) => upsertSnapshots(tx, mergeSnapshots(sweep(n), 10)));
  // Statistics reach pg_stat_user_tables when a backend flushes them; force it on every connection used.
  const stats = async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => t.pool.connect()));
    try {
      for (const c of clients) await c.query("select pg_stat_force_next_flush()");
    } finally {
      for (const c of clients) c.release();
    }
    await new Promise((r) => setTimeout(r, 1_200));
    const r = await t.pool.query<{ upd: string; hot: string }>(
      "select n_tup_upd::text as upd, n_tup_hot_upd::text as hot from pg_stat_user_tables where relname = 'vods'",
    );
    return { upd: Number(r.rows[0]!.upd), hot: Number(r.rows[0]!.hot) };
  };
  await write(0);
  const before = await stats();
  for (let n = 1; n <= SWEEPS; n++) await write(n);
  const after = await stats();
  return { updates: after.upd - before.upd, hot: after.hot - before.hot };
}

describe("vods fillfactor", () => {
  it("keeps sweep updates HOT: nearly all with the migrations' fillfactor, few at 100", async () => {
    const migrated = await sweepUpdates();
    const full = await sweepUpdates(100);
    expect(migrated.updates).toBe(VODS * SWEEPS);
    expect(full.updates).toBe(VODS * SWEEPS);
    // Alone it measures all HOT; a snapshot held meanwhile (autovacuum's analyze, a busy suite) keeps a
    // page from being pruned, and the update after it moves off the page. Fillfactor 100: about 1%.
    expect(migrated.hot / migrated.updates).toBeGreaterThan(0.5);
    expect(full.hot / full.updates).toBeLessThan(0.2);
    expect(migrated.hot).toBeGreaterThan(3 * full.hot);
  }, 60_000);
});
