import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { OverloadedError } from "./db.ts";
import { acceptsGzip, plainPlaylists } from "./playlist-route.ts";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
let stored: Buffer;
const text =
  "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.000,\nhttp://127.0.0.1:1/cdn/a/0.ts\n#EXT-X-ENDLIST\n";
const start = "2026-11-21T09:30:00Z";
const unix = Date.parse(start) / 1000;
const url = `/m3u8/123456789/${unix}/index.m3u8`;

beforeAll(async () => {
  tdb = await freshDatabase();
  api = await testApi(tdb.url);
  await insertVods(tdb.pool, [
    { streamId: 123456789, startTime: start, streamerId: 1, login: "playlist_owner", playlist: text },
    { streamId: 123456790, startTime: start, streamerId: 1, login: "playlist_owner", outcome: "not_found" },
  ]);
  stored = (await tdb.pool.query("select playlist_gz from vods where stream_id = 123456789")).rows[0]
    .playlist_gz as Buffer;
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

describe("the playlist route", () => {
  it("sends the stored gzip bytes as they are, with a strong ETag and a long Cache-Control", async () => {
    const res = await api.app.inject({ method: "GET", url, headers: { "accept-encoding": "gzip, deflate, br" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/vnd.apple.mpegurl");
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.headers["vary"]).toBe("Accept-Encoding");
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(res.headers["etag"]).toMatch(/^"[A-Za-z0-9_-]+\.gz"$/);
    expect(res.rawPayload.equals(stored)).toBe(true);
    expect(Number(res.headers["content-length"])).toBe(stored.length);
    expect(gunzipSync(res.rawPayload).toString()).toBe(text);
    // Players elsewhere load it; it is never sniffed as anything but a playlist.
    expect(res.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("decompresses for a client that does not accept gzip, with an ETag of its own", async () => {
    for (const ae of [undefined, "identity", "gzip;q=0", "br", "*;q=0"]) {
      const res = await api.app.inject({
        method: "GET",
        url,
        headers: ae === undefined ? {} : { "accept-encoding": ae },
      });
      expect(res.statusCode, String(ae)).toBe(200);
      expect(res.headers["content-encoding"], String(ae)).toBeUndefined();
      expect(res.body).toBe(text);
      expect(res.headers["etag"]).toMatch(/^"[A-Za-z0-9_-]+"$/);
    }
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("GZIP;q=0.5")).toBe(true);
    expect(acceptsGzip("*, gzip;q=0")).toBe(false);
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const res = await api.app.inject({ method: "HEAD", url, headers: { "accept-encoding": "gzip" } });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(0);
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.headers["etag"]).toMatch(/\.gz"$/);
    expect(Number(res.headers["content-length"])).toBe(stored.length);
  });

  it("answers 304 to If-None-Match with the current ETag, and 200 to a stale one", async () => {
    const first = await api.app.inject({ method: "GET", url, headers: { "accept-encoding": "gzip" } });
    const etag = first.headers["etag"] as string;
    const again = await api.app.inject({
      method: "GET",
      url,
      headers: { "accept-encoding": "gzip", "if-none-match": `"other", ${etag}` },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    expect(again.headers["etag"]).toBe(etag);
    const stale = await api.app.inject({
      method: "GET",
      url,
      headers: { "accept-encoding": "gzip", "if-none-match": '"stale"' },
    });
    expect(stale.statusCode).toBe(200);
    // The identity representation has another tag: a cached gzip answer does not validate it.
    const plain = await api.app.inject({ method: "GET", url, headers: { "if-none-match": etag } });
    expect(plain.statusCode).toBe(200);
  });

  it("decompresses no more than its cap: a larger playlist is answered 406, and sent gzipped to who takes it", async () => {
    const big = `#EXTM3U\n${"#EXTINF:10.000,\nhttp://127.0.0.1:1/cdn/a/0.ts\n".repeat(10_000)}#EXT-X-ENDLIST\n`;
    const bigStart = "2026-11-21T10:30:00Z";
    await insertVods(tdb.pool, [
      { streamId: 123456791, startTime: bigStart, streamerId: 1, login: "playlist_owner", playlist: big },
    ]);
    const capped = await testApi(tdb.url, { playlistPlainMaxBytes: 100_000 });
    try {
      const bigUrl = `/m3u8/123456791/${Date.parse(bigStart) / 1000}/index.m3u8`;
      const refused = await capped.app.inject({ method: "GET", url: bigUrl });
      expect(refused.statusCode).toBe(406);
      expect(refused.headers["content-type"]).toMatch(/^application\/json/);
      expect(refused.headers["cache-control"]).toBeUndefined();
      expect(refused.headers["etag"]).toBeUndefined();
      expect(refused.json()).toMatchObject({
        error: "Not Acceptable",
        problems: [{ parameter: "accept-encoding", problem: expect.stringContaining("100000 bytes") }],
      });
      const gz = await capped.app.inject({ method: "GET", url: bigUrl, headers: { "accept-encoding": "gzip" } });
      expect(gz.statusCode).toBe(200);
      expect(gunzipSync(gz.rawPayload).toString()).toBe(big);
      // Under the cap, as before.
      const small = await capped.app.inject({ method: "GET", url });
      expect(small.statusCode).toBe(200);
      expect(small.body).toBe(text);
    } finally {
      await capped.close();
    }
  });

  it("decompresses a bounded number of playlists at once, refusing one more as overload", async () => {
    const plain = plainPlaylists(1024 * 1024, 2);
    const [a, b] = [plain(stored), plain(stored)];
    await expect(plain(stored)).rejects.toBeInstanceOf(OverloadedError);
    expect((await a).toString()).toBe(text);
    expect((await b).toString()).toBe(text);
    // Slots come back, after a failure as well.
    await expect(plain(Buffer.from("not gzip"))).rejects.toThrow();
    expect((await Promise.all([plain(stored), plain(stored)])).map(String)).toEqual([text, text]);
  });

  it("answers 404 for a VOD not archived, and 400 naming a malformed parameter", async () => {
    const missing = await api.app.inject({ method: "GET", url: `/m3u8/123456790/${unix}/index.m3u8` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: "Not Found" });
    const badId = await api.app.inject({ method: "GET", url: `/m3u8/12ab/${unix}/index.m3u8` });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ problems: [{ parameter: "streamId" }] });
    const badTime = await api.app.inject({ method: "GET", url: `/m3u8/123456789/yesterday/index.m3u8` });
    expect(badTime.statusCode).toBe(400);
    expect(badTime.json()).toMatchObject({ problems: [{ parameter: "unix" }] });
  });
});
