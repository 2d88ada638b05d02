// The race between a forget and a writer batch, both orders made to happen: no row of the streamer
// survives. Without the advisory lock the first case leaves the batch's row behind (its insert runs
// after the forget's delete).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { StreamSnapshot } from "@vod/kafka";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { mergeSnapshots, upsertSnapshots } from "@vod/writer";
import { withoutTakenDown } from "../services/writer/src/takedowns.ts";
import { forget, type Forgotten } from "../packages/cli/src/forget.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const snap = (streamId: string, streamerId: string, login: string): StreamSnapshot => ({
  v: 1,
  sweepId: "s",
  observedAt: "2026-11-20T18:10:00.000Z",
  streamId,
  startTime: "2026-11-20T18:00:00.000Z",
  streamerId,
  login,
  viewers: 100,
  title: null,
  gameId: null,
  gameName: null,
  language: null,
  mature: null,
});

/** Until a session waits for an advisory lock (the forget or the batch has reached it and is held there). */
async function waitingForLock(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await t.pool.query("select 1 from pg_locks where locktype = 'advisory' and not granted");
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error("nobody waits for the takedown lock");
    await new Promise((r) => setTimeout(r, 20));
  }
}
const rowsOf = async (streamerId: string) =>
  (await t.pool.query("select count(*)::int as n from vods where streamer_id = $1", [streamerId])).rows[0];

describe("a forget and a writer batch at the same time", () => {
  it("a batch in flight when the forget starts: the forget waits for it, then removes its row", async () => {
    let forgetting: Promise<Forgotten> | undefined;
    await t.db.transaction(async (tx) => {
      const { kept, skipped } = await withoutTakenDown(tx, mergeSnapshots([snap("500000000001", "8001", "racer_one")]));
      expect(skipped).toBe(0);
      forgetting = forget(t.db, "racer_one", "race, batch first");
      // The forget waits for this batch; were it not to, it would be done before the batch writes.
      await Promise.race([waitingForLock(), forgetting]);
      // The batch goes on after the forget began: its insert lands after a delete that did not wait would have run.
      expect(await upsertSnapshots(tx, kept)).toBe(1);
    });
    // The forget ran once the batch committed: it saw the row, and the streamer id it carries.
    expect(await forgetting).toMatchObject({ vods: 1, streamerId: "8001" });
    expect(await rowsOf("8001")).toEqual({ n: 0 });
  });

  it("a batch starting while the forget is in flight: it waits for the forget, then sees the takedown", async () => {
    await t.pool.query(
      "insert into vods (stream_id, start_time, streamer_id, login, first_seen, last_seen) values (500000000002, now(), 8002, 'racer_two', now(), now())",
    );
    // Holds the forget inside its transaction (after it took the lock): its delete waits for this row lock.
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    await holder.query("begin");
    await holder.query("select 1 from vods where streamer_id = 8002 for update");
    const forgetting = forget(t.db, "racer_two", "race, forget first");
    const rowLockWait = Date.now() + 10_000;
    while (
      (await t.pool.query("select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%takedown%'"))
        .rows.length === 0
    ) {
      if (Date.now() > rowLockWait) throw new Error("the forget did not reach its delete");
      await new Promise((r) => setTimeout(r, 20));
    }
    const batch = t.db.transaction(async (tx) => {
      const { kept, skipped } = await withoutTakenDown(tx, mergeSnapshots([snap("500000000003", "8002", "racer_two")]));
      return { written: await upsertSnapshots(tx, kept), skipped };
    });
    await waitingForLock();
    await holder.query("commit");
    await holder.end();
    expect((await forgetting).vods).toBe(1);
    expect(await batch).toEqual({ written: 0, skipped: 1 });
    expect(await rowsOf("8002")).toEqual({ n: 0 });
  });
});
