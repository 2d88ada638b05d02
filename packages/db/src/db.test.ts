import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { runMigrations, vods, withTransaction } from "./index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t.drop();
});

const vod = {
  streamId: 318688040160,
  startTime: new Date("2026-05-15T14:51:32.123Z"),
  streamerId: 12345,
  login: "malek_04",
  title: "hello",
  maxViewers: 42,
  firstSeen: new Date("2026-05-15T14:55:00Z"),
  lastSeen: new Date("2026-05-15T16:00:00Z"),
  playlistGz: Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
};

describe("db", () => {
  it("applies the migrations, and applying them again changes nothing", async () => {
    await runMigrations(t.db);
    const { rows } = await t.pool.query<{ indexname: string }>(
      "select indexname from pg_indexes where tablename = 'vods' order by 1",
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      "vods_found_fetched_idx",
      "vods_found_game_viewers_idx",
      "vods_found_language_viewers_idx",
      "vods_found_public_viewers_idx",
      "vods_found_start_id_idx",
      "vods_game_idx",
      "vods_game_start_id_idx",
      "vods_language_idx",
      "vods_language_start_id_idx",
      "vods_login_c_idx",
      "vods_login_idx",
      "vods_pkey",
      "vods_playable_start_id_idx",
      "vods_start_id_idx",
      "vods_stream_start_uq",
      "vods_streamer_start_id_idx",
      "vods_video_idx",
    ]);
  });

  it("round-trips a row through drizzle, millisecond start time and bytes intact", async () => {
    const [inserted] = await t.db.insert(vods).values(vod).returning();
    const [row] = await t.db.select().from(vods).where(eq(vods.id, inserted!.id));
    expect(row).toMatchObject({ ...vod, outcome: null });
    expect(row!.startTime.toISOString()).toBe("2026-05-15T14:51:32.123Z");
  });

  it("refuses a second row for the same (stream id, start time) but takes a restart's new start time", async () => {
    await expect(t.db.insert(vods).values(vod)).rejects.toThrow();
    await t.db.insert(vods).values({ ...vod, startTime: new Date("2026-05-15T17:00:05.000Z") });
    const [{ n }] = (await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(vods)
      .where(eq(vods.streamId, vod.streamId))) as [{ n: number }];
    expect(n).toBe(2);
  });

  it("withTransaction rolls back everything when the work throws", async () => {
    await expect(
      withTransaction(t.db, async (tx) => {
        await tx.insert(vods).values({ ...vod, streamId: 1, login: "rollback" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await t.db.select().from(vods).where(eq(vods.login, "rollback"))).toEqual([]);
  });

  it("sets statement_timeout on pooled connections", async () => {
    const { rows } = await t.pool.query<{ statement_timeout: string }>("show statement_timeout");
    expect(rows[0]!.statement_timeout).toBe("30s");
  });
});
