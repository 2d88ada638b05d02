import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cdnDomainHealth, cdnStreamerDomains, vods } from "@vod/db";
import { cdnDomains, freshDatabase, restarted, streamer, type TestDatabase, scriptedSimulator } from "@vod/testing";
import { processPlaylist } from "@vod/twitch";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import { CommandError, UsageError } from "./errors.ts";
import { recoverCommand, recoverEnvSchema } from "./recover-command.ts";

const DOMAINS = cdnDomains(4);
const [D0, D1, D2, D3] = DOMAINS;
/** Archives GQL does not list: only the CDN finds them. */
const hiddenWith = (viewers: number) => ({ viewers, hidden: true });

let sim: Simulator;
let t: TestDatabase;
let dir: string;
const notes: string[] = [];

beforeAll(async () => {
  sim = await scriptedSimulator(
    12,
    DOMAINS,
    [
      { login: "in_archive", id: "3001", viewers: 900, domain: D1, sessions: [{ start: "+10m", duration: "40m" }] },
      streamer("seen_live", "3002", D2, [{ start: "+12m", duration: "40m", variant: "minus1" }], hiddenWith(800)),
      { login: "listed_one", id: "3003", viewers: 700, domain: D0, sessions: [{ start: "+14m", duration: "40m" }] },
      streamer("hides_vods", "3004", D3, [{ start: "+16m", duration: "40m" }], hiddenWith(600)),
      streamer("never_kept", "3005", D2, [{ start: "+18m", duration: "40m", saved: false }], hiddenWith(500)),
      streamer("muted_one", "3006", D1, [{ start: "+20m", duration: "40m", muted: [[2, 5]] }], hiddenWith(400)),
      streamer(
        "restarted",
        "3007",
        D0,
        restarted({ start: "+22m", duration: "20m" }, { start: "+45m", duration: "20m" }),
        hiddenWith(300),
      ),
      {
        login: "twice_again",
        id: "3008",
        viewers: 200,
        domain: D1,
        hidden: true,
        sessions: [
          { start: "2025-01-06T12:30:05Z", duration: "10m" },
          { start: "2025-01-06T12:41:20Z", duration: "10m", sameStreamId: true },
          // Ends before 13:00 like the second: both playlists are written by the 13:00 mute run.
          { start: "2025-01-06T12:52:40Z", duration: "5m", sameStreamId: true },
        ],
      },
    ],
    { streams: 4 },
  );
  sim.clock.advance(3 * 3_600_000);
  t = await freshDatabase();
  dir = await mkdtemp(join(tmpdir(), "recover-"));
}, 120_000);

afterAll(async () => {
  await t?.drop();
  await sim?.close();
});

const truth = (login: string): VodTruth => sim.vods({ login, state: "ended" })[0]!;
const env = (over: Record<string, string> = {}) =>
  recoverEnvSchema.parse({
    DATABASE_URL: t.url,
    CDN_DOMAINS: DOMAINS.join(","),
    CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
    GQL_ENDPOINT: sim.gqlUrl,
    GQL_CLIENT_ID: "test",
    API_URL: "http://127.0.0.1:8080",
    CONNECT_TIMEOUT: "1s",
    HEADERS_TIMEOUT: "1s",
    BODY_TIMEOUT: "1s",
    REQUEST_TIMEOUT: "2s",
    ...over,
  });
const run = async (argv: string[], over: Record<string, string> = {}) =>
  recoverCommand(argv, env(over), { note: (m) => notes.push(m), now: () => sim.clock.now() });
const json = async (argv: string[], over: Record<string, string> = {}) =>
  JSON.parse(await run([...argv, "--json"], over)) as Record<string, unknown>;
/** Minute of a start time as a tracker shows it ("2025-01-06 12:10"). */
const minuteOf = (v: VodTruth) => v.startTime.slice(0, 16).replace("T", " ");
const tracker = (v: VodTruth) => `https://twitchtracker.com/${v.login}/streams/${v.streamId}`;

async function archiveRow(v: VodTruth, outcome: "found" | "not_found", playlist?: string): Promise<void> {
  await t.db.insert(vods).values({
    streamId: Number(v.streamId),
    startTime: new Date(v.startTime),
    streamerId: Number(v.streamerId),
    login: v.login,
    firstSeen: new Date(v.startTime),
    lastSeen: new Date(v.endedAt!),
    maxViewers: 100,
    outcome,
    fetchedAt: new Date(sim.clock.now()),
    ...(playlist !== undefined
      ? {
          domain: v.domain,
          url: sim.cdnBaseUrl(v.domain) + v.path,
          segmentCount: processPlaylist(playlist, "http://x/").segments,
          playlistGz: gzipSync(playlist),
        }
      : {}),
  });
}

async function cdnPlaylist(v: VodTruth): Promise<string> {
  const url = sim.cdnBaseUrl(v.domain) + v.path;
  return processPlaylist(await (await fetch(url)).text(), url).text;
}

describe("vods recover (simulator, PostgreSQL)", () => {
  it("our archive first: a found VOD answers at once with its API link and stored playlist, no CDN request", async () => {
    const v = truth("in_archive");
    const stored = await cdnPlaylist(v);
    await archiveRow(v, "found", stored);
    sim.resetStats();
    const out = join(dir, "archive.m3u8");
    const r = await json([tracker(v), "--out", out]);
    expect(r).toMatchObject({
      source: "archive",
      requests: 0,
      url: `http://127.0.0.1:8080/m3u8/${v.streamId}/${Date.parse(v.startTime) / 1000}/index.m3u8`,
      segments: v.segments,
    });
    expect(await readFile(out, "utf8")).toBe(`${stored}\n`.replace(/\n\n$/, "\n"));
    expect(sim.stats().cdn.requests).toBe(0);
  });

  it("a VOD seen live but not found: its exact start time, then the streamer's domain known to the fetcher", async () => {
    const v = truth("seen_live");
    await archiveRow(v, "not_found");
    await t.db.insert(cdnStreamerDomains).values({ streamerId: Number(v.streamerId), domain: D2, foundCount: 3 });
    sim.resetStats();
    // No --time: the archive's row gives it to the second.
    const r = await json([`https://streamscharts.com/channels/${v.login}/streams/${v.streamId}`]);
    expect(r).toMatchObject({ source: "seen", startTime: v.startTime, cdnUrl: sim.cdnBaseUrl(D2) + v.path });
    // Start on its domain (403), then one second less (the hit) alongside the next candidate.
    expect(r.requests).toBeLessThanOrEqual(3);
    // A request aborted by the hit may never have reached the CDN.
    expect(sim.stats().cdn.requests).toBeGreaterThanOrEqual(2);
    expect(sim.stats().cdn.requests).toBeLessThanOrEqual(r.requests as number);
  });

  it("the streamer's GraphQL listing: one request on the domain and path its seekPreviewsURL names", async () => {
    const v = truth("listed_one");
    sim.resetStats();
    const r = await json([`https://sullygnome.com/channel/${v.login}/stream/${v.streamId}`, "--time", minuteOf(v)]);
    expect(r).toMatchObject({
      source: "listing",
      requests: 1,
      cdnUrl: sim.cdnBaseUrl(D0) + v.path,
      startTime: v.startTime,
    });
    expect(sim.stats().cdn.requests).toBe(1);
  });

  it("a Twitch video URL Twitch still shows: its seekPreviewsURL names the stream, one request", async () => {
    const v = truth("listed_one");
    sim.resetStats();
    const r = await json([`https://www.twitch.tv/videos/${v.videoId}`]);
    expect(r).toMatchObject({
      source: "listing",
      login: v.login,
      streamId: v.streamId,
      requests: 1,
      cdnUrl: sim.cdnBaseUrl(D0) + v.path,
    });
  });

  it("the CDN from a StreamsCharts minute: the whole minute, domains by what the fetcher learned", async () => {
    const v = truth("hides_vods");
    // D3 has the best health score: it is searched first.
    await t.db.insert(cdnDomainHealth).values({ domain: D3, score: 5, scoredAt: new Date(sim.clock.now()) });
    sim.resetStats();
    const out = join(dir, "cdn.m3u8");
    const r = await json([
      `https://streamscharts.com/channels/${v.login}/streams/${v.streamId}`,
      "--time",
      `${minuteOf(v).slice(8, 10)}-${minuteOf(v).slice(5, 7)}-${minuteOf(v).slice(0, 4)} ${minuteOf(v).slice(11)}`,
      "--out",
      out,
    ]);
    expect(r).toMatchObject({
      source: "cdn",
      startTime: v.startTime,
      cdnUrl: sim.cdnBaseUrl(D3) + v.path,
      segments: v.segments,
    });
    expect(r.requests as number).toBeLessThanOrEqual(61);
    expect(sim.stats().cdn.requests).toBe(r.requests);
    expect(await readFile(out, "utf8")).toBe(`${await cdnPlaylist(v)}`);
  });

  it("a local time with --tz, and --login/--stream-id; the human answer names source, link and cost", async () => {
    const v = truth("hides_vods");
    const local = new Date(Date.parse(v.startTime) + 3_600_000).toISOString().slice(0, 19).replace("T", " "); // Berlin is UTC+1 in January
    const text = await run(["--login", v.login, "--stream-id", v.streamId, "--time", local, "--tz", "Europe/Berlin"]);
    expect(text).toMatch(
      new RegExp(`^found hides_vods stream ${v.streamId} \\(started ${v.startTime}\\) on the CDN: 1 CDN request, `),
    );
    expect(text).toContain(sim.cdnBaseUrl(D3) + v.path);
  });

  it("a same-id restart: the seconds-field form is found", async () => {
    const second = sim.vods({ login: "restarted", state: "ended" }).find((v) => v.variant === "seconds")!;
    const r = await json([tracker(second), "--time", second.startTime]);
    expect(r).toMatchObject({ source: "cdn", cdnUrl: sim.cdnBaseUrl(D0) + second.path, startTime: second.startTime });
  });

  it("two same-id restarts and a minute: the one whose playlist could have started then, else ambiguous (never the wrong VOD)", async () => {
    const [, second, third] = sim
      .vods({ login: "twice_again", state: "ended" })
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
    expect([second!.variant, third!.variant]).toEqual(["seconds", "seconds"]);
    // The second's playlist was written at 13:00 and lasts 10 minutes: it started by 12:50, not at 12:52.
    const r = await json([tracker(third!), "--time", minuteOf(third!), "--budget", "1000"]);
    expect(r).toMatchObject({ source: "cdn", cdnUrl: sim.cdnBaseUrl(D1) + third!.path });
    expect(notes.at(-1)).toMatch(/restarted under the same stream id .*only ts 40 could have started at/);
    // At 12:41 both could have: 12:41:20 (written 13:00, 10 min) and 12:52:40 (written 13:00, 5 min).
    const err = await run([tracker(second!), "--time", minuteOf(second!), "--budget", "1000"]).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^ambiguous: twice_again stream \d+ restarted under the same stream id, and 2 of its 2 VODs .*\((ts 20: .*; ts 40: |ts 40: .*; ts 20: ).*give the start time to the second$/,
    );
    const exact = await json([tracker(second!), "--time", second!.startTime]);
    expect(exact).toMatchObject({ source: "cdn", cdnUrl: sim.cdnBaseUrl(D1) + second!.path });
  });

  it("--check-segments: dead segments are reported and commented out", async () => {
    const v = truth("muted_one");
    expect(v.mutedSegmentsNow).toBe(3);
    // A copy taken before the mute run still names 2.ts–4.ts, which the run renamed: those three are dead now.
    const early = (await cdnPlaylist(v)).replace(/(\d+)-muted\.ts/g, "$1.ts");
    await archiveRow(v, "found", early);
    const out = join(dir, "checked.m3u8");
    const r = await json([tracker(v), "--check-segments", "all", "--out", out]);
    expect(r).toMatchObject({ source: "archive", checkedSegments: v.segments });
    expect((r.deadSegments as { uri: string }[]).map((d) => d.uri.split("/").pop())).toEqual(["2.ts", "3.ts", "4.ts"]);
    const written = await readFile(out, "utf8");
    expect(written).toMatch(/^# dead segment \(HTTP 403\): .*\/3\.ts$/m);
    expect(written).toMatch(/^# dead segment: #EXTINF/m);
    expect(written.split("\n").filter((l) => l.endsWith(".ts") && !l.startsWith("#"))).toHaveLength(v.segments - 3);
    // The default sample: first, middle, last.
    const sample = await json([tracker(v), "--check-segments", "3"]);
    expect(sample).toMatchObject({ checkedSegments: 3 });
  });

  it("a VOD that is not on the CDN at all: a clear not found after the bounded search, with what was tried", async () => {
    const v = truth("never_kept");
    sim.resetStats();
    // Within one budget window: the cap has its own test below.
    const err = await run([tracker(v), "--time", minuteOf(v), "--budget", "1000"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(1);
    const message = (err as Error).message;
    expect(message).toMatch(
      /^not found: never_kept stream \d+ at .* \(the whole minute\); tried archive, listing, cdn/,
    );
    // Four domains × (61 forms of the minute + 60 seconds-field forms + 120 in the minutes either side).
    expect(message).toContain(
      `${4 * 241} CDN requests, ${4 * 61} forms of the time given, ${4 * 60} seconds-field forms, ${4 * 120} in the minutes either side`,
    );
    expect(sim.stats().cdn.requests).toBe(4 * 241);
  });

  it("the politeness budget: never more than the budget within its window, counted by the simulator", async () => {
    const v = truth("never_kept");
    notes.length = 0;
    sim.resetStats();
    const started = Date.now();
    const done = run([tracker(v), "--time", v.startTime, "--budget", "5"], {
      RECOVER_WINDOW: "1500ms",
      RECOVER_CONCURRENCY: "4",
    }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sim.stats().cdn.requests).toBe(5);
    const err = await done;
    expect((err as Error).message).toContain("12 CDN requests");
    expect(sim.stats().cdn.requests).toBe(12);
    // 12 requests at 5 per 1.5 s: the last ones wait for two windows.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(notes.some((n) => n.startsWith("politeness budget spent (5 requests per 2 s)"))).toBe(true);
  });

  it("GQL down: the CDN is searched without the listing", async () => {
    sim.faults.add({ id: "gql-down", kind: "down", target: "gql" });
    try {
      const v = truth("listed_one");
      const r = await json([tracker(v), "--time", v.startTime]);
      expect(r).toMatchObject({ source: "cdn", cdnUrl: sim.cdnBaseUrl(D0) + v.path });
    } finally {
      sim.faults.clear(["gql-down"]);
    }
  });

  it("refuses bad input with what it understood", async () => {
    await expect(run(["https://twitchtracker.com/somebody"])).rejects.toThrow(UsageError);
    // A video Twitch no longer shows (hidden): nothing says which stream it was.
    await expect(run([`https://www.twitch.tv/videos/${truth("seen_live").videoId}`])).rejects.toThrow(
      /Twitch no longer shows video \d+ \(deleted or hidden\), and a video id names no stream id/,
    );
    await expect(run(["--login", "x"])).rejects.toThrow(/understood login x; missing: --stream-id/);
    await expect(run([tracker(truth("never_kept")), "--time", "03/01/2025 12:00"])).rejects.toThrow(/ambiguous/);
    await expect(run([tracker(truth("never_kept")), "--check-segments", "some"])).rejects.toThrow(
      /--check-segments takes a count or "all"/,
    );
    // Not in the archive, not listed, and no time to search with.
    await expect(run([tracker(truth("never_kept"))])).rejects.toThrow(/a CDN search needs the start time: give --time/);
  });
});
