import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@vod/log";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
const lines: { level: string; msg?: string }[] = [];
const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

beforeAll(async () => {
  tdb = await freshDatabase();
  await insertVods(
    tdb.pool,
    Array.from({ length: 3 }, (_, i) => ({
      streamId: 31 + i,
      startTime: `2026-11-0${i + 1}T00:00:00Z`,
      streamerId: 3,
      login: "validated",
    })),
  );
  const log = createLogger({
    service: "api",
    level: "info",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as { level: string }) },
  });
  api = await testApi(tdb.url, { log });
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

describe("malformed ids and cursors", () => {
  it("answers 400 naming the parameter, and logs nothing at error level", async () => {
    const first = (await api.app.inject({ method: "GET", url: "/v1/vods?limit=1" })).json() as { next: string };
    const [, , key] = JSON.parse(Buffer.from(first.next, "base64url").toString()) as [number, number, string];
    const cases: [string, string][] = [
      ["/v1/vods/9999999999999999999/1761955200", "streamId"],
      ["/v1/vods/99999999999999999999/1761955200", "streamId"],
      ["/v1/vods/12x/1761955200", "streamId"],
      ["/m3u8/9999999999999999999/1761955200/index.m3u8", "streamId"],
      ["/v1/vods?streamerId=9999999999999999999", "streamerId"],
      [`/v1/vods?cursor=${cursor([1e20, 1, key])}`, "cursor"],
      [`/v1/vods?cursor=${cursor([8.64e15, 1, key])}`, "cursor"],
      [`/v1/vods?cursor=${cursor([1_700_000_000_000, 1e20, key])}`, "cursor"],
      [`/v1/vods?cursor=${cursor([1_700_000_000_000, 2 ** 63, key])}`, "cursor"],
      [`/v1/vods?cursor=${cursor([-1, 1, key])}`, "cursor"],
      [`/v1/vods?cursor=${cursor([1.5, 1, key])}`, "cursor"],
      [`/v1/vods?cursor=${cursor({ a: 1 })}`, "cursor"],
    ];
    for (const [url, parameter] of cases) {
      const res = await api.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({
        error: "Bad Request",
        problems: [expect.objectContaining({ parameter })],
      });
    }
    expect(lines.filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
    // The largest id and a cursor at the edge of its range are still answered.
    const edge = await api.app.inject({ method: "GET", url: "/v1/vods?streamerId=9223372036854775807" });
    expect(edge.statusCode).toBe(200);
    const far = `/v1/vods?limit=1&cursor=${cursor([Date.UTC(9999, 0, 1), 9_007_199_254_740_991, key])}`;
    expect((await api.app.inject({ method: "GET", url: far })).statusCode).toBe(200);
  });
});
