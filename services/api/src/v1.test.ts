import { describe, expect, it } from "vitest";
import { useApi } from "./__fixtures__/use-api.ts";
import { insertVods, type TestVod } from "./testing.ts";
import { vodsPage } from "./v1-schemas.ts";

const { tdb, api } = useApi();
const get = async (url: string) => {
  const res = await api.app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
};
const page = async (url: string) => {
  const res = await get(url);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return vodsPage.parse(res.body);
};

const base = Date.UTC(2026, 10, 1);
const vod = (i: number, o: Partial<TestVod> = {}): TestVod => ({
  streamId: 1_000_000 + i,
  // Pairs share a start time: the id breaks the tie, and a page boundary may fall between them.
  startTime: new Date(base + Math.floor(i / 2) * 60_000).toISOString(),
  streamerId: 50 + (i % 3),
  login: `keyset_${i % 3}`,
  ...o,
});

describe("v1 API", () => {
  it("pages newest first with an opaque cursor; pages neither skip nor repeat while rows are inserted", async () => {
    await insertVods(
      tdb.pool,
      Array.from({ length: 95 }, (_, i) => vod(i)),
    );
    const expected = (
      await tdb.pool.query<{ stream_id: string }>("select stream_id from vods order by start_time desc, id desc")
    ).rows.map((r) => r.stream_id);
    const seen: string[] = [];
    let next: string | null = null;
    let round = 0;
    do {
      const p = await page(`/v1/vods?limit=7${next ? `&cursor=${next}` : ""}`);
      seen.push(...p.items.map((v) => v.streamId));
      next = p.next;
      // Meanwhile new VODs arrive, newer and older than the page just read, and at its very start time.
      const last = p.items.at(-1)!;
      await insertVods(tdb.pool, [
        vod(10_000 + round * 3, { startTime: new Date(base + 10 * 86_400_000 + round).toISOString() }),
        vod(10_001 + round * 3, { startTime: new Date(base - 86_400_000 - round * 1000).toISOString() }),
        vod(10_002 + round * 3, { startTime: last.startTime }),
      ]);
      round++;
    } while (next);
    const original = seen.filter((id) => expected.includes(id));
    expect(original).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    expect(next).toBeNull();
  });

  it("filters by login (following renames), streamer id, game, language, visibility, outcome and time", async () => {
    await insertVods(tdb.pool, [
      {
        streamId: 2_000_001,
        startTime: "2026-10-01T00:00:00Z",
        streamerId: 777,
        login: "old_name",
        gameId: "31",
        language: "FR",
        public: true,
      },
      {
        streamId: 2_000_002,
        startTime: "2026-10-02T00:00:00Z",
        streamerId: 777,
        login: "new_name",
        gameId: "32",
        language: "FR",
        public: false,
        subOnly: true,
      },
      {
        streamId: 2_000_003,
        startTime: "2026-10-03T00:00:00Z",
        streamerId: 777,
        login: "new_name",
        gameId: "31",
        language: "ES",
        outcome: "not_found",
        public: false,
        subOnly: false,
      },
      {
        streamId: 2_000_004,
        startTime: "2026-10-04T00:00:00Z",
        streamerId: 777,
        login: "new_name",
        outcome: null,
        public: null,
        subOnly: null,
      },
    ]);
    const ids = async (q: string) => (await page(`/v1/vods?${q}`)).items.map((v) => v.streamId);
    expect(await ids("login=old_name")).toEqual(["2000004", "2000003", "2000002", "2000001"]);
    expect(await ids("streamerId=777&gameId=31")).toEqual(["2000003", "2000001"]);
    expect(await ids("streamerId=777&language=FR")).toEqual(["2000002", "2000001"]);
    expect(await ids("streamerId=777&visibility=public")).toEqual(["2000001"]);
    expect(await ids("streamerId=777&visibility=sub_only")).toEqual(["2000002"]);
    expect(await ids("streamerId=777&visibility=hidden")).toEqual(["2000003"]);
    expect(await ids("streamerId=777&visibility=unknown")).toEqual(["2000004"]);
    expect(await ids("streamerId=777&outcome=not_found")).toEqual(["2000003"]);
    expect(await ids("streamerId=777&outcome=pending")).toEqual(["2000004"]);
    expect(await ids("streamerId=777&from=2026-10-02T00:00:00Z&to=2026-10-04T00:00:00Z")).toEqual([
      "2000003",
      "2000002",
    ]);
    expect(await ids("login=nobody_at_all")).toEqual([]);
    const one = (await page("/v1/vods?streamerId=777&visibility=sub_only")).items[0]!;
    expect(one).toMatchObject({
      login: "new_name",
      visibility: "sub_only",
      outcome: "found",
      playlist: `/m3u8/2000002/${Date.parse("2026-10-02T00:00:00Z") / 1000}/index.m3u8`,
      mutedShare: 0,
    });
  });

  it("refuses bad input with a 400 naming the parameter", async () => {
    const cases: [string, string][] = [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["visibility=secret", "visibility"],
      ["outcome=maybe", "outcome"],
      ["language=xx", "language"],
      ["from=yesterday", "from"],
      ["login=" + encodeURIComponent("a b"), "login"],
      ["cursor=!!!notacursor", "cursor"],
      ["cursor=" + Buffer.from('["x"]').toString("base64url"), "cursor"],
    ];
    for (const [q, parameter] of cases) {
      const res = await get(`/v1/vods?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body, q).toMatchObject({ error: "Bad Request", problems: [expect.objectContaining({ parameter })] });
    }
    const unknown = await get("/v1/vods?colour=blue");
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain("colour");
    // A cursor is bound to its filters.
    const first = await page("/v1/vods?limit=1&streamerId=777");
    const other = await get(`/v1/vods?limit=1&streamerId=778&cursor=${first.next}`);
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({
      problems: [{ parameter: "cursor", problem: expect.stringContaining("other filters") }],
    });
  });

  it("answers one VOD by stream id and start time, and a streamer by login", async () => {
    const unix = Date.parse("2026-10-02T00:00:00Z") / 1000;
    for (const t of [String(unix), "2026-10-02T00:00:00Z", "2026-10-02T02:00:00%2B02:00"]) {
      const res = await get(`/v1/vods/2000002/${t}`);
      expect(res.status, t).toBe(200);
      expect(res.body).toMatchObject({ streamId: "2000002", startTime: "2026-10-02T00:00:00Z", login: "new_name" });
    }
    expect((await get("/v1/vods/2000002/1")).status).toBe(404);
    expect((await get("/v1/vods/2000002/soon")).status).toBe(400);
    const s = await get("/v1/streamers/old_name");
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      streamerId: "777",
      login: "new_name",
      vods: 4,
      archived: 2,
      firstStartTime: "2026-10-01T00:00:00Z",
      lastStartTime: "2026-10-04T00:00:00Z",
    });
    expect((s.body.logins as string[]).sort()).toEqual(["new_name", "old_name"]);
    expect((await get("/v1/streamers/never_streamed")).status).toBe(404);
  });

  it("publishes an OpenAPI document of its routes", async () => {
    const doc = await get("/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.body.paths as object);
    for (const p of [
      "/v1/vods",
      "/v1/vods/{streamId}/{startTime}",
      "/v1/streamers/{login}",
      "/channels/@{login}",
      "/m3u8/{streamId}/{unix}/index.m3u8",
    ])
      expect(paths).toContain(p);
    const params = (doc.body.paths as Record<string, { get: { parameters: { name: string }[] } }>)[
      "/v1/vods"
    ]!.get.parameters.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(["login", "cursor", "limit", "visibility"]));
  });
});
