import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import type { ReadPool } from "./db.ts";
import { createReadPool } from "./db.ts";
import { SEED_VODS_SQL } from "./seed.ts";
import { testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
const issued: { text: string; values: unknown[] }[] = [];

beforeAll(async () => {
  tdb = await freshDatabase();
  const { gzipSync } = await import("node:zlib");
  await tdb.pool.query(SEED_VODS_SQL, [60_000, gzipSync("#EXTM3U\n#EXT-X-ENDLIST\n")]);
  await tdb.pool.query("analyze vods");
  const real = createReadPool({
    url: tdb.url,
    max: 2,
    queueMax: 8,
    acquireTimeoutMs: 5_000,
    statementTimeoutMs: 10_000,
  });
  // Records every statement the routes send, to explain exactly those.
  const recording: ReadPool = {
    ...real,
    read: (text, values, signal) => (issued.push({ text, values }), real.read(text, values, signal)),
  };
  api = await testApi(tdb.url, { db: recording });
}, 120_000);
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

const ROUTES = [
  "/channels/@user42",
  "/all/public",
  "/all/private",
  "/language/@DE/all/public",
  "/category/@500007/all/private",
  "/search/user42",
  "/search/user4",
  "/categories",
  `/m3u8/40000000042/${Math.floor(Date.now() / 1000)}/index.m3u8`,
  "/v1/vods",
  "/v1/vods?limit=100&outcome=found",
  "/v1/vods?login=user42",
  "/v1/vods?streamerId=1042&visibility=public",
  "/v1/vods?gameId=500007",
  "/v1/vods?language=JA&outcome=found",
  "/v1/vods?from=2026-01-01T00:00:00Z&to=2099-01-01T00:00:00Z",
  "/v1/vods/40000000042/2026-01-01T00:00:00Z",
  "/v1/streamers/user42",
];

describe("every list query is served by an index", () => {
  it.each(ROUTES)("%s", async (url) => {
    issued.length = 0;
    const res = await api.app.inject({ method: "GET", url });
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(issued.length).toBeGreaterThan(0);
    for (const q of issued) {
      const { rows } = await tdb.pool.query(`explain (format json) ${q.text}`, q.values);
      const plan = (rows[0]["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan;
      const all = nodes(plan);
      const seq = all.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "vods");
      expect(seq, `${url}: ${q.text}`).toEqual([]);
      expect(
        all.some((n) => /Index/.test(n["Node Type"])),
        `${url}: ${q.text}`,
      ).toBe(true);
    }
  });

  it("pages through a keyset cursor on an index too", async () => {
    const first = (await api.app.inject({ method: "GET", url: "/v1/vods?gameId=500007&limit=20" })).json() as {
      next: string;
    };
    issued.length = 0;
    await api.app.inject({ method: "GET", url: `/v1/vods?gameId=500007&limit=20&cursor=${first.next}` });
    const { rows } = await tdb.pool.query(`explain (format json) ${issued[0]!.text}`, issued[0]!.values);
    const all = nodes((rows[0]["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan);
    expect(all.map((n) => n["Index Name"]).filter(Boolean)).toContain("vods_game_start_id_idx");
    expect(all.some((n) => n["Node Type"] === "Sort")).toBe(false);
  });
});
