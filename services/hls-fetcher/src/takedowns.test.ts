import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VodFetchRequest } from "@vod/kafka";
import { freshDatabase, testLog, type TestDatabase } from "@vod/testing";
import { guardedFetch } from "./fetch-one.ts";
import type { VodFetcher } from "./fetcher.ts";
import { TakedownList } from "./takedowns.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const req = (streamerId: string, login: string): VodFetchRequest => ({
  v: 1,
  streamId: "318688040160",
  startTime: "2026-11-20T18:00:00.000Z",
  streamerId,
  login,
  firstSeen: "2026-11-20T18:05:00.000Z",
  lastSeen: "2026-11-20T20:00:00.000Z",
  maxViewers: 50,
  releaseAt: "2026-11-20T21:10:00.000Z",
});

describe("the fetcher and takedowns", () => {
  it("reads the list from PostgreSQL: by streamer id, or by login when no id was recorded", async () => {
    const list = new TakedownList(t.db, testLog, 0);
    expect(await list.has("1001", "some_one")).toBe(false);
    await t.pool.query(
      "insert into takedowns (login, streamer_id, reason) values ('some_one', 1001, 'asked'), ('no_id', null, 'asked')",
    );
    expect(await list.has("1001", "renamed")).toBe(true);
    expect(await list.has("2002", "no_id")).toBe(true);
    // A login whose takedown recorded an id is matched by that id alone (another streamer may take the name).
    expect(await list.has("3003", "some_one")).toBe(false);
  });

  it("spends no request on a taken-down streamer's VOD: a terminal failure, not retried", async () => {
    let runs = 0;
    const fetcher = {
      run: async () => {
        runs++;
        throw new Error("searched");
      },
    } as unknown as VodFetcher;
    const list = new TakedownList(t.db, testLog, 0);
    const fetchOne = guardedFetch({
      fetcher,
      clock: { now: () => Date.parse("2026-11-20T21:10:05Z"), realDelay: (ms) => ms },
      log: testLog,
      counters: {},
      maxResultBytes: 1_000_000,
      takenDown: (r) => list.has(r.streamerId, r.login),
    });
    const { report, retry } = await fetchOne(req("1001", "some_one"), new AbortController().signal);
    expect(runs).toBe(0);
    expect(retry).toBe(false);
    expect(report.result).toMatchObject({ outcome: "failed", terminal: true, requests: 0 });
    expect(report.result.error).toMatch(/asked to be left out/);
    // Anyone else is searched for as before.
    await fetchOne(req("4004", "still_here"), new AbortController().signal);
    expect(runs).toBe(1);
  });
});
