import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fetchResult as result, streamSnapshot as snap, useDatabase } from "@vod/testing";
import { withTransaction } from "@vod/db";
import type { StreamSnapshot, VodFetchResult } from "@vod/kafka";
import { mergeResults, mergeSnapshots } from "./merge.ts";
import { upsertResults, upsertSnapshots } from "./upsert.ts";
import { isDataError } from "./writer.ts";

const t = useDatabase();

let nextStream = 1_000;
const foundBody = "#EXTM3U\n#EXTINF:10.000,\nhttp://cdn.example/x/chunked/0.ts\n#EXT-X-ENDLIST\n";
const foundResult = (over: Partial<VodFetchResult>): VodFetchResult =>
  result({
    outcome: "found",
    error: null,
    requests: 2,
    found: {
      domain: "d.example",
      url: "http://cdn.example/x/chunked/index-dvr.m3u8",
      variant: "minus1",
      ts: 1,
      durationSeconds: 10,
      segments: 1,
      mutedSegments: 0,
      playlistGzipBase64: gzipSync(foundBody).toString("base64"),
    },
    ...over,
  });

const writeSnapshots = (s: StreamSnapshot[]) => withTransaction(t.db, (tx) => upsertSnapshots(tx, mergeSnapshots(s)));
const writeResults = (r: VodFetchResult[]) => withTransaction(t.db, (tx) => upsertResults(tx, mergeResults(r)));
async function row(streamId: string) {
  const { rows } = await t.pool.query(`select *, xmin::text as xmin from vods where stream_id = $1`, [streamId]);
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

describe("snapshot upsert", () => {
  it("inserts, then a replay of the same snapshots writes no new row version", async () => {
    const id = String(nextStream++);
    const batch = [
      snap({ streamId: id, viewers: 5 }),
      snap({ streamId: id, viewers: 9, observedAt: "2026-05-15T15:05:00.000Z" }),
    ];
    expect(await writeSnapshots(batch)).toBe(1);
    const before = await row(id);
    expect(before).toMatchObject({ max_viewers: 9, title: "first" });
    expect(await writeSnapshots(batch)).toBe(0);
    expect(await writeSnapshots([batch[0]!])).toBe(0);
    expect((await row(id)).xmin).toBe(before.xmin);
  });

  it("max viewers and last seen only grow; at-start fields keep the earliest sighting's values in any order", async () => {
    const id = String(nextStream++);
    await writeSnapshots([
      snap({ streamId: id, observedAt: "2026-05-15T15:10:00.000Z", viewers: 100, title: "middle" }),
    ]);
    await writeSnapshots([
      snap({ streamId: id, observedAt: "2026-05-15T15:20:00.000Z", viewers: 40, title: "late", gameName: "Other" }),
    ]);
    let r = await row(id);
    expect(r).toMatchObject({ max_viewers: 100, title: "middle", game_name: "Chess" });
    expect((r.last_seen as Date).toISOString()).toBe("2026-05-15T15:20:00.000Z");
    // A late delivery of an earlier sighting: it owns the at-start fields, but does not shrink anything.
    await writeSnapshots([
      snap({ streamId: id, observedAt: "2026-05-15T15:00:00.000Z", viewers: 1, title: "opening", language: "de" }),
    ]);
    r = await row(id);
    expect(r).toMatchObject({ max_viewers: 100, title: "opening", language: "de" });
    expect((r.first_seen as Date).toISOString()).toBe("2026-05-15T15:00:00.000Z");
    expect((r.last_seen as Date).toISOString()).toBe("2026-05-15T15:20:00.000Z");
  });

  it("takes 20,000 VODs in one statement (beyond the 65,535-parameter limit of a VALUES list)", async () => {
    const base = 10_000_000;
    const batch = Array.from({ length: 20_000 }, (_, i) => snap({ streamId: String(base + i), viewers: i }));
    expect(await writeSnapshots(batch)).toBe(20_000);
    const { rows } = await t.pool.query(
      `select count(*)::int as n, sum(max_viewers)::bigint as s from vods where stream_id >= $1`,
      [base],
    );
    expect(rows[0]).toEqual({ n: 20_000, s: String((19_999 * 20_000) / 2) });
  });
});

describe("fetch result upsert", () => {
  it("creates the row when the result arrives before any snapshot; the first snapshot then fills the at-start fields", async () => {
    const id = String(nextStream++);
    await writeResults([result({ streamId: id })]);
    expect(await row(id)).toMatchObject({
      outcome: "failed",
      title: null,
      start_fields_seen_at: null,
      max_viewers: 50,
    });
    await writeSnapshots([snap({ streamId: id, observedAt: "2026-05-15T15:00:00.000Z", viewers: 20, title: "hello" })]);
    expect(await row(id)).toMatchObject({ outcome: "failed", title: "hello", max_viewers: 50 });
  });

  it("never overwrites found with a later failure, in one batch or across batches; stores the gzip bytes", async () => {
    const id = String(nextStream++);
    await writeResults([foundResult({ streamId: id, fetchedAt: "2026-05-15T17:00:00.000Z" })]);
    await writeResults([
      result({ streamId: id, fetchedAt: "2026-05-15T18:00:00.000Z" }),
      result({ streamId: id, outcome: "not_found", fetchedAt: "2026-05-15T19:00:00.000Z" }),
    ]);
    const r = await row(id);
    expect(r).toMatchObject({
      outcome: "found",
      domain: "d.example",
      ts_variant: "minus1",
      segment_count: 1,
      fetch_error: null,
      fetch_requests: 2,
    });
    expect((r.playlist_gz as Buffer).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    const other = String(nextStream++);
    await writeResults([
      result({ streamId: other }),
      foundResult({ streamId: other }),
      result({ streamId: other, fetchedAt: "2026-05-15T20:00:00.000Z" }),
    ]);
    expect(await row(other)).toMatchObject({ outcome: "found" });
  });

  it("a later failure replaces an earlier failure; replaying changes nothing", async () => {
    const id = String(nextStream++);
    const batch = [
      result({ streamId: id, error: "first" }),
      result({ streamId: id, error: "second", fetchedAt: "2026-05-15T18:00:00.000Z" }),
    ];
    await writeResults([batch[1]!]);
    const before = await row(id);
    expect(await writeResults([batch[0]!])).toBe(0);
    expect(await writeResults(batch)).toBe(0);
    const after = await row(id);
    expect(after).toMatchObject({ fetch_error: "second" });
    expect(after.xmin).toBe(before.xmin);
  });
});

describe("visibility upsert", () => {
  it("a known value replaces null, a null never erases a known one, in any order; replays write no new row version", async () => {
    const id = String(nextStream++);
    const unknown = result({
      streamId: id,
      fetchedAt: "2026-05-15T19:00:00.000Z",
      visibility: { public: null, subOnly: null },
    });
    const old = result({ streamId: id, error: "old" });
    await writeResults([old]);
    expect(await row(id)).toMatchObject({ public: null, sub_only: null });
    const known = foundResult({ streamId: id, visibility: { public: true, subOnly: false } });
    await writeResults([known]);
    expect(await row(id)).toMatchObject({ outcome: "found", public: true, sub_only: false });
    // A later lookup that failed, or a message from before the field existed, erases nothing.
    const before = await row(id);
    expect(await writeResults([unknown])).toBe(0);
    expect(await writeResults([old, known, unknown])).toBe(0);
    expect(await row(id)).toMatchObject({ public: true, sub_only: false, xmin: before.xmin });

    // A later known value reaches a row whose outcome does not change.
    const other = String(nextStream++);
    await writeResults([foundResult({ streamId: other })]);
    expect(await row(other)).toMatchObject({ public: null, sub_only: null });
    expect(
      await writeResults([
        result({
          streamId: other,
          fetchedAt: "2026-05-15T20:00:00.000Z",
          visibility: { public: false, subOnly: true },
        }),
      ]),
    ).toBe(1);
    expect(await row(other)).toMatchObject({ outcome: "found", public: false, sub_only: true });

    // The same results in the opposite order end in the same row.
    const third = String(nextStream++);
    await writeResults([unknown, known, old].map((r) => ({ ...r, streamId: third })));
    expect(await row(third)).toMatchObject({ outcome: "found", public: true, sub_only: false });
  });
});

describe("isDataError", () => {
  it("recognises a value Postgres can never take, and not a connection problem", async () => {
    const err = await withTransaction(t.db, (tx) =>
      upsertSnapshots(tx, mergeSnapshots([snap({ streamId: "99999999999999999999999" })])),
    ).catch((e: unknown) => e);
    expect(isDataError(err)).toBe(true);
    expect(isDataError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(false);
  });
  it("takes a program limit (class 54, a 3 KB login over the index row size) for a data error, not a lost connection (08)", async () => {
    let login = "";
    for (let i = 0; login.length < 3000; i++) login += ((i * 2654435761) >>> 7).toString(36);
    const err = await withTransaction(t.db, (tx) =>
      upsertSnapshots(tx, mergeSnapshots([snap({ streamId: "31", login: login.slice(0, 3000) })])),
    ).catch((e: unknown) => e);
    expect((err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code).toBe("54000");
    expect(isDataError(err)).toBe(true);
    expect(isDataError(Object.assign(new Error("connection lost"), { code: "08006" }))).toBe(false);
  });
});
