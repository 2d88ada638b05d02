import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  tdb = await freshDatabase();
  api = await testApi(tdb.url);
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

describe("the web page", () => {
  it("serves the page, its script, its style and hls.js", async () => {
    const page = await api.app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    for (const ref of ["/app.js", "/app.css", "/vendor/hls.min.js"]) {
      expect(page.body).toContain(ref);
      const res = await api.app.inject({ method: "GET", url: ref });
      expect(res.statusCode, ref).toBe(200);
      expect(res.body.length, ref).toBeGreaterThan(100);
    }
    expect((await api.app.inject({ method: "GET", url: "/vendor/hls.min.js" })).body).toMatch(/Hls/);
  });
});
