import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { API_ROLE } from "./db.ts";
import { compatItemSchema } from "./compat-routes.ts";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
const get = async (url: string) => {
  const res = await api.app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.json() as unknown, headers: res.headers };
};

beforeAll(async () => {
  tdb = await freshDatabase();
  api = await testApi(tdb.url);
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

describe("compatible routes", () => {
  it("answers a channel's VODs with the original field names and nullable shapes, field by field", async () => {
    const [id] = await insertVods(tdb.pool, [
      {
        streamId: 316_000_000_001,
        startTime: "2026-11-20T18:04:05Z",
        streamerId: 7001,
        login: "shape_check",
        title: "a title",
        gameId: "21779",
        gameName: "League of Legends",
        language: "DE",
        mature: true,
        maxViewers: 4321,
        durationSeconds: 7265.5,
        public: false,
        subOnly: true,
      },
      // Nothing known yet: every nullable is invalid, every plain field its zero value.
      {
        streamId: 316_000_000_002,
        startTime: "2026-11-19T10:00:00.250Z",
        streamerId: 7001,
        login: "shape_check",
        title: null,
        gameId: null,
        gameName: null,
        language: null,
        mature: null,
        outcome: null,
        public: null,
        subOnly: null,
        maxViewers: 12,
      },
    ]);
    const { status, body, headers } = await get("/channels/@Shape_Check");
    expect(status).toBe(200);
    expect(headers["content-type"]).toMatch(/^application\/json/);
    expect(Array.isArray(body)).toBe(true);
    const items = body as unknown[];
    for (const item of items) compatItemSchema.parse(item);
    expect(items[0]).toStrictEqual({
      Link: `/m3u8/316000000001/${Date.parse("2026-11-20T18:04:05Z") / 1000}/index.m3u8`,
      Metadata: {
        ID: id,
        MaxViews: 4321,
        StartTime: "2026-11-20T18:04:05Z",
        StreamerID: 7001,
        StreamID: 316000000001,
        StreamerLoginAtStart: "shape_check",
        GameNameAtStart: "League of Legends",
        LanguageAtStart: "DE",
        TitleAtStart: "a title",
        IsMatureAtStart: true,
        GameIDAtStart: "21779",
        BytesFound: { Bool: true, Valid: true },
        Public: { Bool: false, Valid: true },
        HlsDurationSeconds: { Float64: 7265.5, Valid: true },
        BoxArtUrlAtStart: { String: "", Valid: false },
        ProfileImageUrlAtStart: { String: "", Valid: false },
      },
    });
    const pending = (items[1] as { Metadata: Record<string, unknown> }).Metadata;
    expect(pending.StartTime).toBe("2026-11-19T10:00:00.250Z");
    expect(pending).toMatchObject({
      TitleAtStart: "",
      GameIDAtStart: "",
      GameNameAtStart: "",
      LanguageAtStart: "",
      IsMatureAtStart: false,
      BytesFound: { Bool: false, Valid: false },
      Public: { Bool: false, Valid: false },
      HlsDurationSeconds: { Float64: 0, Valid: false },
    });
    expect(Object.keys(items[0] as object)).toEqual(["Link", "Metadata"]);
  });

  it("follows renames (by streamer id), lists newest first and at most 50", async () => {
    const vods = Array.from({ length: 55 }, (_, i) => ({
      streamId: 400_000 + i,
      startTime: new Date(Date.UTC(2026, 9, 1) + i * 86_400_000).toISOString(),
      streamerId: 8001,
      login: i < 30 ? "before_rename" : "after_rename",
    }));
    await insertVods(tdb.pool, vods);
    for (const login of ["after_rename", "before_rename"]) {
      const { body } = await get(`/channels/@${login}`);
      const items = body as { Metadata: { StreamID: number; StartTime: string } }[];
      expect(items).toHaveLength(50);
      expect(items.map((i) => i.Metadata.StreamID)).toEqual(Array.from({ length: 50 }, (_, i) => 400_054 - i));
    }
  });

  it("answers [] with 200 for a login with no VODs, and 400 naming the login when malformed", async () => {
    expect(await get("/channels/@nobody_here")).toMatchObject({ status: 200, body: [] });
    const bad = await get("/channels/@" + encodeURIComponent("bad login!"));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ problems: [{ parameter: "login" }] });
    expect(JSON.stringify(bad.body)).toMatch(/letters, digits or underscores/);
    expect((await get("/channels/@" + "a".repeat(51))).status).toBe(400);
  });

  it("lists archived VODs by max viewers per visibility, language and category", async () => {
    await insertVods(tdb.pool, [
      {
        streamId: 500_001,
        startTime: "2026-11-01T00:00:00Z",
        streamerId: 9001,
        login: "lists_a",
        maxViewers: 900_001,
        language: "TL",
        gameId: "990001",
        public: true,
      },
      {
        streamId: 500_002,
        startTime: "2026-11-01T00:00:00Z",
        streamerId: 9002,
        login: "lists_b",
        maxViewers: 900_003,
        language: "TL",
        gameId: "990001",
        public: true,
      },
      {
        streamId: 500_003,
        startTime: "2026-11-01T00:00:00Z",
        streamerId: 9003,
        login: "lists_c",
        maxViewers: 900_002,
        language: "TL",
        gameId: "990001",
        public: false,
      },
      // Not archived: never in these lists, however many viewers.
      {
        streamId: 500_004,
        startTime: "2026-11-01T00:00:00Z",
        streamerId: 9004,
        login: "lists_d",
        maxViewers: 999_999,
        language: "TL",
        gameId: "990001",
        outcome: "not_found",
        public: true,
      },
    ]);
    const ids = (b: unknown) => (b as { Metadata: { StreamID: number } }[]).map((i) => i.Metadata.StreamID);
    expect(ids((await get("/all/public")).body).slice(0, 2)).toEqual([500_002, 500_001]);
    expect(ids((await get("/all/private")).body)[0]).toBe(500_003);
    expect(ids((await get("/language/@tl/all/public")).body)).toEqual([500_002, 500_001]);
    expect(ids((await get("/language/@TL/all/private")).body)).toEqual([500_003]);
    expect(ids((await get("/category/@990001/all/public")).body)).toEqual([500_002, 500_001]);
    expect((await get("/category/@990002/all/public")).body).toEqual([]);
    const bad = await get("/all/everything");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      problems: [{ parameter: "visibility", problem: expect.stringContaining("public") }],
    });
    expect((await get("/category/@abc/all/public")).body).toMatchObject({ problems: [{ parameter: "gameId" }] });
    expect((await get("/language/@klingon/all/public")).body).toMatchObject({
      problems: [{ parameter: "lang", problem: expect.stringContaining("ZH_HK") }],
    });
    expect((await get("/language/@zh-hk/all/public")).status).toBe(200);
  });

  it("counts categories of the last 24 hours and languages of archived VODs", async () => {
    const now = Date.now();
    await insertVods(tdb.pool, [
      {
        streamId: 600_001,
        startTime: new Date(now - 3_600_000).toISOString(),
        streamerId: 9101,
        login: "cat_a",
        gameId: "880001",
        gameName: "Recent Game",
      },
      {
        streamId: 600_002,
        startTime: new Date(now - 7_200_000).toISOString(),
        streamerId: 9102,
        login: "cat_b",
        gameId: "880001",
        gameName: "Recent Game",
      },
      {
        streamId: 600_003,
        startTime: new Date(now - 48 * 3_600_000).toISOString(),
        streamerId: 9103,
        login: "cat_c",
        gameId: "880002",
        gameName: "Old Game",
      },
    ]);
    const cats = (await get("/categories")).body as { GameID: string; GameName: string; Count: number }[];
    expect(cats).toContainEqual({ GameID: "880001", GameName: "Recent Game", Count: 2 });
    expect(cats.find((c) => c.GameID === "880002")).toBeUndefined();
    const langs = (await get("/languages")).body as { Language: string; Count: number }[];
    expect(langs).toContainEqual({ Language: "DE", Count: 1 });
    expect(langs.every((l) => Object.keys(l).join() === "Language,Count")).toBe(true);
  });

  it("searches logins: the exact login first, then logins that start with it; _ matches only itself", async () => {
    await insertVods(tdb.pool, [
      { streamId: 700_001, startTime: "2026-11-02T00:00:00Z", streamerId: 9201, login: "zed_x_long" },
      { streamId: 700_002, startTime: "2026-11-03T00:00:00Z", streamerId: 9202, login: "zed_x" },
      { streamId: 700_003, startTime: "2026-11-04T00:00:00Z", streamerId: 9203, login: "zedaxb" },
    ]);
    const logins = (b: unknown) =>
      (b as { Metadata: { StreamerLoginAtStart: string } }[]).map((i) => i.Metadata.StreamerLoginAtStart);
    expect(logins((await get("/search/zed_x")).body)).toEqual(["zed_x", "zed_x_long"]);
    expect(logins((await get("/search/ZED")).body)).toEqual(["zed_x", "zed_x_long", "zedaxb"]);
    expect((await get("/search/nomatchatall")).body).toEqual([]);
    expect((await get("/search/" + encodeURIComponent("%"))).status).toBe(400);
  });

  it("leaves SQL injection attempts inert and the archive unchanged", async () => {
    const before = (await tdb.pool.query("select count(*)::int as n from vods")).rows[0].n as number;
    for (const url of [
      "/channels/@" + encodeURIComponent("x' or '1'='1"),
      "/search/" + encodeURIComponent("a'; drop table vods; --"),
      "/language/@" + encodeURIComponent("en' or 1=1 --") + "/all/public",
      "/category/@" + encodeURIComponent("1 or 1=1") + "/all/public",
      "/v1/vods?language=" + encodeURIComponent("en';delete from vods;--"),
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
    }
    expect((await tdb.pool.query("select count(*)::int as n from vods")).rows[0].n).toBe(before);
  });

  it("connects read-only: a write through the API's pool is refused by PostgreSQL", async () => {
    await expect(api.db.read("delete from vods", [])).rejects.toThrow(/read-only transaction/);
    expect(await api.db.read<{ u: string }>("select current_user as u", [])).toEqual([{ u: API_ROLE }]);
  });

  it("acts as a role the migrations allow only to SELECT from vods: even a read-write transaction cannot write", async () => {
    const c = new pg.Client({ connectionString: tdb.url, options: `-c role=${API_ROLE}` });
    await c.connect();
    try {
      const tables = await c.query<{ t: string }>("select tablename as t from pg_tables where schemaname = 'public'");
      expect(tables.rows.length).toBeGreaterThan(3);
      for (const { t } of tables.rows) {
        // The tables the API reads (the archive, takedowns for its 410s); the fetcher's and the migrations' are not its to read.
        if (["vods", "takedowns", "takedown_vods"].includes(t)) await c.query(`select 1 from "${t}" limit 1`);
        else await expect(c.query(`select 1 from "${t}" limit 1`), t).rejects.toThrow(/permission denied/);
        await expect(c.query(`delete from "${t}"`), t).rejects.toThrow(/permission denied/);
      }
      await expect(c.query("create table intruder (x int)")).rejects.toThrow(/permission denied/);
    } finally {
      await c.end();
    }
  });

  it("answers unknown routes with a JSON 404 naming the path", async () => {
    const res = await get("/nope/nothing");
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: "Not Found", message: "no route GET /nope/nothing" });
  });

  it("serves neither health nor metrics on the public port (they are on the ops port)", async () => {
    for (const url of ["/healthz", "/metrics"]) expect((await get(url)).status, url).toBe(404);
  });
});
