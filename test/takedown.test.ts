// `vods forget` against real Kafka and PostgreSQL: the streamer's VODs leave every route (410), what
// arrives for it afterwards is not archived while the writer's offsets move on, and each forget is recorded.
import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import {
  createCatalog,
  createProducer,
  type StreamSnapshot,
  type TypedProducer,
  type VodFetchResult,
} from "@vod/kafka";
import {
  createTestTopics,
  freshDatabase,
  repoRoot,
  testKafka,
  testLog,
  uniqueName,
  type TestDatabase,
} from "@vod/testing";
import { testApi, type TestApi } from "../services/api/src/testing.ts";
import { forgetCommand } from "../packages/cli/src/forget-command.ts";
import { writeUntilCaughtUp } from "./writer-run.ts";

const kafka = testKafka();
const prefix = `${uniqueName("takedown")}.`;
const catalog = createCatalog(prefix);
const groupId = uniqueName("writer");
let producer: TypedProducer;
let t: TestDatabase;
let api: TestApi;

const T0 = Date.UTC(2026, 10, 20, 18);
const iso = (ms: number) => new Date(ms).toISOString();
const snapshot = (streamId: string, streamerId: string, login: string, startMs: number): StreamSnapshot => ({
  v: 1,
  sweepId: "s1",
  observedAt: iso(startMs + 600_000),
  streamId,
  startTime: iso(startMs),
  streamerId,
  login,
  viewers: 500,
  title: "a stream",
  gameId: "509658",
  gameName: "Just Chatting",
  language: "EN",
  mature: false,
});
const found = (s: StreamSnapshot, videoId?: string): VodFetchResult => ({
  v: 1,
  streamId: s.streamId,
  startTime: s.startTime,
  streamerId: s.streamerId,
  login: s.login,
  firstSeen: s.observedAt,
  lastSeen: s.observedAt,
  maxViewers: 500,
  outcome: "found",
  fetchedAt: iso(Date.parse(s.startTime) + 7_200_000),
  requests: 1,
  found: {
    domain: "d1m7jfoe9zdc1j.cloudfront.net",
    url: `https://d1m7jfoe9zdc1j.cloudfront.net/x_${s.login}_${s.streamId}/chunked/index-dvr.m3u8`,
    variant: "start",
    ts: Math.floor(Date.parse(s.startTime) / 1000),
    durationSeconds: 10,
    segments: 1,
    mutedSegments: 0,
    playlistGzipBase64: gzipSync("#EXTM3U\n#EXTINF:10.000,\nhttps://x/0.ts\n#EXT-X-ENDLIST\n").toString("base64"),
  },
  error: null,
  ...(videoId ? { videoId } : {}),
});

// Streamer 7001 asks to be left out; it was archived as "old_name" before a rename to "asks_out".
const gone1 = snapshot("400000000001", "7001", "old_name", T0);
const gone2 = snapshot("400000000002", "7001", "asks_out", T0 + 86_400_000);
const kept = snapshot("400000000003", "7002", "stays_here", T0);
const unix = (s: StreamSnapshot) => Date.parse(s.startTime) / 1000;

/** Runs a writer until it committed every offset; its metrics in `registry`. */
const writeAll = (registry?: Registry) =>
  writeUntilCaughtUp({
    kafka,
    producer,
    catalog,
    prefix,
    databaseUrl: t.url,
    groupId,
    ...(registry ? { registry } : {}),
  });

const status = async (url: string) => {
  const res = await api.app.inject({ method: "GET", url });
  const isJson = String(res.headers["content-type"]).startsWith("application/json");
  return { status: res.statusCode, body: (isJson ? res.json() : {}) as Record<string, unknown> };
};
const skipped = async (registry: Registry) =>
  (await registry.getSingleMetric("writer_rows_skipped_total")?.get())?.values.map((v) => [v.labels.topic, v.value]) ??
  [];

beforeAll(async () => {
  t = await freshDatabase();
  producer = await createProducer(kafka, testLog);
  await createTestTopics(kafka, Object.values(catalog));
  api = await testApi(t.url);
  await producer.send(catalog.streamSnapshots, [gone1, gone2, kept]);
  await producer.send(catalog.vodFetchResults, [found(gone1, "2644563701"), found(gone2), found(kept, "2644563703")]);
  await writeAll();
}, 120_000);

afterAll(async () => {
  await api?.close();
  await producer?.disconnect();
  await t?.drop();
});

const forget = (argv: string[]) => forgetCommand(argv, { DATABASE_URL: t.url });

describe("vods forget", () => {
  it("removes the streamer's VODs (every login it used) and answers 410 on every route that served them", async () => {
    const before = await status(`/v1/vods/${gone1.streamId}/${unix(gone1)}`);
    expect(before.status).toBe(200);
    await t.pool.query(
      "insert into fetch_followups (stream_id, start_time, kind, request, next_at, deadline) values ($1, $2, 'retry', $3, now(), now())",
      [gone2.streamId, gone2.startTime, { ...gone2, streamerId: "7001", login: "asks_out" }],
    );
    await t.pool.query(
      "insert into cdn_streamer_domains (streamer_id, domain) values (7001, 'd1m7jfoe9zdc1j.cloudfront.net')",
    );

    const out = await forget(["asks_out", "--reason", "  asked by email, ticket 1234  "]);
    expect(out).toContain("forgot asks_out (streamer 7001)");
    expect(out).toContain("reason: asked by email, ticket 1234");
    expect(out).toContain("removed 2 VOD(s), 1 pending fetch follow-up(s), 1 learned streamer domain(s)");
    const rows = await t.pool.query("select streamer_id::text from vods order by stream_id");
    expect(rows.rows).toEqual([{ streamer_id: "7002" }]);
    for (const table of ["fetch_followups", "cdn_streamer_domains"])
      expect((await t.pool.query(`select count(*)::int as n from ${table}`)).rows[0], table).toEqual({ n: 0 });

    const urls = [
      `/m3u8/${gone1.streamId}/${unix(gone1)}/index.m3u8`,
      `/m3u8/${gone2.streamId}/${unix(gone2)}/index.m3u8`,
      `/v1/vods/${gone1.streamId}/${unix(gone1)}`,
      `/v1/vods/${gone2.streamId}/${gone2.startTime}`,
      "/v1/streamers/asks_out",
      "/v1/streamers/old_name",
      "/v1/videos/2644563701",
      "/channels/@asks_out",
      "/channels/@old_name",
    ];
    const { rows: taken } = await t.pool.query<{ at: Date }>("select at from takedowns");
    for (const url of urls) {
      const res = await status(url);
      expect(res.status, url).toBe(410);
      expect(res.body.message, url).toMatch(/removed from the archive at the streamer's request/);
      expect(Date.parse(res.body.removedAt as string), url).toBe(taken[0]!.at.getTime());
    }
    // The others are served as before; what was never archived is still a 404.
    expect((await status(`/m3u8/${kept.streamId}/${unix(kept)}/index.m3u8`)).status).toBe(200);
    expect((await status("/v1/streamers/stays_here")).status).toBe(200);
    expect((await status("/v1/videos/2644563703")).status).toBe(200);
    expect((await status("/v1/streamers/never_here")).status).toBe(404);
    expect((await status("/v1/videos/1")).status).toBe(404);
  });

  it("keeps a snapshot and a result arriving after the forget out of the archive; the offsets move on", async () => {
    const later = snapshot("400000000009", "7001", "asks_out", T0 + 2 * 86_400_000);
    // A new login for the same streamer id, and a login seen with no id on record, are both left out.
    const renamed = snapshot("400000000010", "7001", "new_name", T0 + 3 * 86_400_000);
    const other = snapshot("400000000011", "7002", "stays_here", T0 + 2 * 86_400_000);
    await producer.send(catalog.streamSnapshots, [later, renamed, other]);
    await producer.send(catalog.vodFetchResults, [found(gone1), found(later, "2644563709"), found(other)]);
    const registry = new Registry();
    await writeAll(registry);
    const { rows } = await t.pool.query<{ stream_id: string }>("select stream_id::text from vods order by stream_id");
    expect(rows.map((r) => r.stream_id)).toEqual([kept.streamId, other.streamId]);
    expect(Object.fromEntries(await skipped(registry))).toEqual({
      [catalog.streamSnapshots.name]: 2,
      [catalog.vodFetchResults.name]: 2,
    });
    // Nothing was dead-lettered: a skipped row is not an error.
    const dlq = await kafka.admin();
    await dlq.connect();
    try {
      const offsets = await dlq.fetchTopicOffsets(`${catalog.vodFetchResults.name}.dlq`).catch(() => []);
      expect(offsets.every((o) => o.high === "0")).toBe(true);
    } finally {
      await dlq.disconnect();
    }
  }, 90_000);

  it("by login alone when the archive knew no streamer id; every forget is recorded with its reason and time", async () => {
    const before = Date.now();
    expect(await forget(["Never_Seen", "--reason", "asked on stream"])).toContain(
      "never_seen (no streamer id in the archive)",
    );
    await producer.send(catalog.streamSnapshots, [snapshot("400000000020", "7003", "never_seen", T0)]);
    await writeAll();
    expect((await t.pool.query("select count(*)::int as n from vods where login = 'never_seen'")).rows[0]).toEqual({
      n: 0,
    });

    expect(await forget(["asks_out", "--reason", "asked again"])).toContain("removed 0 VOD(s)");
    const { rows } = await t.pool.query<{
      login: string;
      streamer_id: string | null;
      reason: string;
      at: Date;
      removed_vods: number;
    }>("select login, streamer_id::text, reason, at, removed_vods from takedowns order by id");
    expect(rows.map(({ at: _at, ...r }) => r)).toEqual([
      { login: "asks_out", streamer_id: "7001", reason: "asked by email, ticket 1234", removed_vods: 2 },
      { login: "never_seen", streamer_id: null, reason: "asked on stream", removed_vods: 0 },
      { login: "asks_out", streamer_id: "7001", reason: "asked again", removed_vods: 0 },
    ]);
    expect(rows[1]!.at.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(rows[2]!.at.getTime()).toBeGreaterThanOrEqual(rows[1]!.at.getTime());
  }, 90_000);

  it("refuses a bad login or a missing reason with a message and exit code 2, and changes nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["--reason", "x"], /the login is missing/],
      [["a-b", "--reason", "x"], /"a-b" is not a Twitch login/],
      [["a".repeat(26), "--reason", "x"], /is not a Twitch login/],
      [["someone"], /--reason is required/],
      [["someone", "--reason", "   "], /--reason is required/],
      [["someone", "other", "--reason", "x"], /give one login/],
      [["someone", "--reason", "x", "--force"], /Unknown option '--force'/],
    ];
    const n = async () => (await t.pool.query("select count(*)::int as n from takedowns")).rows[0];
    const count = await n();
    for (const [argv, message] of cases) {
      const err = (await forget(argv).then(
        () => ({ message: "it ran", exitCode: 0 }),
        (e: unknown) => e,
      )) as { message: string; exitCode: number };
      expect(err, argv.join(" ")).toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
      expect(err.message).toContain("usage: vods forget <login>");
    }
    expect(await n()).toEqual(count);
    // As an operator runs it: the message on stderr, exit code 2.
    const run = spawnSync(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "forget", "bad-login!"], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: t.url },
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('"bad-login!" is not a Twitch login');
  }, 30_000);
});
