import { describe, expect, it } from "vitest";
import { withTransaction } from "@vod/db";
import type { VodCheck } from "@vod/kafka";
import { streamSnapshot as snap, useDatabase } from "@vod/testing";
import { writeChecks } from "./checks.ts";
import { mergeSnapshots } from "./merge.ts";
import { upsertSnapshots } from "./upsert.ts";

const t = useDatabase();

const check = (over: Partial<VodCheck>): VodCheck => ({
  v: 1,
  streamId: "7001",
  startTime: "2025-01-06T11:01:02.000Z",
  streamerId: "42",
  state: "playable",
  checkedAt: "2025-01-06T15:00:00.000Z",
  checked: 3,
  dead: [],
  ...over,
});

async function stored(streamId: string) {
  const { rows } = await t.pool.query<{ playable: string | null; checked: Date | null }>(
    "select playable, playable_checked_at as checked from vods where stream_id = $1",
    [streamId],
  );
  return rows.map((r) => ({ playable: r.playable, checked: r.checked?.toISOString() ?? null }));
}

describe("playable checks", () => {
  it("stores the latest check of each VOD, whatever the order, and creates no row", async () => {
    await withTransaction(t.db, (tx) =>
      upsertSnapshots(
        tx,
        mergeSnapshots([
          snap({ streamId: "7001", startTime: "2025-01-06T11:01:02.000Z", streamerId: "42", viewers: 50 }),
        ]),
      ),
    );
    const newer = check({ state: "partial", checkedAt: "2025-01-07T15:00:00.000Z" });
    expect(await writeChecks(t.db, [newer, check({}), check({ streamId: "7002" })])).toBe(1);
    expect(await stored("7001")).toEqual([{ playable: "partial", checked: "2025-01-07T15:00:00.000Z" }]);
    // An older check arriving late changes nothing; a VOD not in the archive gets no row.
    expect(await writeChecks(t.db, [check({ state: "gone" })])).toBe(0);
    expect(await stored("7001")).toEqual([{ playable: "partial", checked: "2025-01-07T15:00:00.000Z" }]);
    expect(await stored("7002")).toEqual([]);
  });
});
