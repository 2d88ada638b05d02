import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { createReadPool, type ReadPool } from "./db.ts";
import { SharedCache } from "./shared-cache.ts";
import { insertVods, testApi, type TestApi } from "./testing.ts";

let tdb: TestDatabase;
let api: TestApi;
let reads = 0;
const registry = new Registry();
const MAX_ENTRIES = 300;
const MAX_BYTES = 128 * 1024;

beforeAll(async () => {
  tdb = await freshDatabase();
  await insertVods(tdb.pool, [{ streamId: 21, startTime: "2026-11-01T00:00:00Z", streamerId: 2, login: "zz_top" }]);
  const real = createReadPool({
    url: tdb.url,
    max: 4,
    queueMax: 64,
    acquireTimeoutMs: 5_000,
    statementTimeoutMs: 10_000,
  });
  // The routes' statements; the takedown watch's lookup is not an answer.
  const counting: ReadPool = {
    ...real,
    read: (text, values, signal) => (text.includes("takedowns") || reads++, real.read(text, values, signal)),
  };
  api = await testApi(tdb.url, {
    db: counting,
    registry,
    listCacheTtlMs: 600_000,
    // The flood is sent from this process: its own loop delay must not shed it (0: not checked).
    maxEventLoopDelayMs: 0,
    listCacheEntries: MAX_ENTRIES,
    listCacheBytes: MAX_BYTES,
  });
});
afterAll(async () => {
  await api?.close();
  await tdb?.drop();
});

async function gauge(name: string): Promise<number> {
  const m = (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.cache === "list");
  if (!m) throw new Error(`no ${name}{cache="list"}`);
  return m.value;
}

/** Sends the URLs `concurrency` at a time; every answer must be a 200. */
async function flood(urls: (i: number) => string, count: number, concurrency = 32, onEach?: () => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const url = urls(next++);
      const res = await api.app.inject({ method: "GET", url });
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      if (next % 200 === 0) await onEach?.();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe("the answer cache under a flood of distinct URLs", () => {
  it("keys by validated parameters: 20,000 URLs that differ only in ignored or unnormalised parts share an entry", async () => {
    reads = 0;
    const pad = "p".repeat(500);
    await flood((i) => `/search/ZZ?r=${i}&pad=${pad}`, 10_000);
    await flood((i) => `/v1/vods?limit=${"0".repeat(i % 50)}50&login=ZZ_top`, 10_000);
    // One statement per normalised answer: the search, and the v1 page.
    expect(reads).toBe(2);
    expect(await gauge("api_cache_entries")).toBe(2);
    expect(await gauge("api_cache_bytes")).toBeLessThan(4_096);
  }, 120_000);

  it("stays under its entry and byte caps, keys counted, whatever the number of distinct answers", async () => {
    let maxEntries = 0;
    let maxBytes = 0;
    const sample = async () => {
      maxEntries = Math.max(maxEntries, await gauge("api_cache_entries"));
      maxBytes = Math.max(maxBytes, await gauge("api_cache_bytes"));
    };
    // Distinct logins: each a valid query with its own (empty) answer.
    await flood((i) => `/search/flood_${i.toString(36)}`, 1_500, 32, sample);
    await flood((i) => `/v1/vods?login=flood_${i.toString(36)}&limit=${1 + (i % 100)}`, 1_500, 32, sample);
    await sample();
    expect(maxEntries).toBeGreaterThan(MAX_ENTRIES / 2);
    expect(maxEntries).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(maxBytes).toBeLessThanOrEqual(MAX_BYTES);
  }, 120_000);

  it("refuses unknown query parameters of the v1 routes with a 400 naming them", async () => {
    for (const url of [
      "/v1/vods?colour=blue",
      "/v1/streamers/zz_top?colour=blue",
      "/v1/vods/21/1761955200?colour=blue",
    ]) {
      const res = await api.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ problems: [{ parameter: "colour" }] });
    }
  });
});

describe("SharedCache", () => {
  it("drops expired entries as time passes, without being asked for them again", async () => {
    const cache = new SharedCache<Buffer>({
      ttlMs: 50,
      maxBytes: 1024 * 1024,
      maxEntries: 1_000,
      sizeOf: (v) => (v as Buffer).length,
    });
    try {
      for (let i = 0; i < 100; i++) await cache.get(`k${i}`, undefined, async () => Buffer.alloc(100));
      expect(cache.size).toBe(100);
      expect(cache.bytes).toBeGreaterThan(100 * 100);
      await new Promise((r) => setTimeout(r, 1_200));
      expect(cache.size).toBe(0);
      expect(cache.bytes).toBe(0);
    } finally {
      cache.close();
    }
  });

  it("counts the key's bytes against the byte cap", async () => {
    const cache = new SharedCache<Buffer>({
      ttlMs: 60_000,
      maxBytes: 10_000,
      maxEntries: 1_000,
      sizeOf: (v) => (v as Buffer).length,
    });
    try {
      const key = "k".repeat(1_000);
      for (let i = 0; i < 50; i++) await cache.get(`${key}${i}`, undefined, async () => Buffer.alloc(2));
      expect(cache.bytes).toBeLessThanOrEqual(10_000);
      expect(cache.size).toBeLessThanOrEqual(5);
    } finally {
      cache.close();
    }
  });
});
