// `vods download` against the simulator's CDN serving a real, decodable 10 s MPEG-TS segment, with
// our archive in PostgreSQL and Debian's ffmpeg/ffprobe; the kill is a real SIGKILL of the CLI.
import { execFile, spawn, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { LIVE_VOD_DOMAINS, processPlaylist } from "@vod/twitch";
import { segmentBody, startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { downloadCommand, downloadEnvSchema } from "./download-command.ts";
import type { DownloadReport } from "./download-report.ts";
import { CommandError, UsageError } from "./errors.ts";
import { archiveFound, simRecoverEnv } from "./sim-testing.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 2);
const [D0, D1] = DOMAINS as [string, string];

let sim: Simulator;
let t: TestDatabase;
let dir: string;
let api: Server;
let apiUrl: string;
const notes: string[] = [];

beforeAll(async () => {
  expect(spawnSync("ffprobe", ["-version"]).status, "ffprobe is missing: run bash infra/ensure-deps.sh --media").toBe(
    0,
  );
  sim = await startSimulator({
    seed: 21,
    streams: 2,
    domains: DOMAINS,
    segment: segmentBody("playable"),
    streamers: [
      { login: "short_one", id: "4001", viewers: 900, domain: D0, sessions: [{ start: "+10m", duration: "3m" }] },
      {
        login: "muted_two",
        id: "4002",
        viewers: 800,
        domain: D1,
        hidden: true,
        sessions: [{ start: "+12m", duration: "2m", muted: [[2, 4]] }],
      },
      { login: "long_three", id: "4003", viewers: 700, domain: D1, sessions: [{ start: "+14m", duration: "5m" }] },
    ],
  });
  sim.clock.advance(3 * 3_600_000);
  t = await freshDatabase();
  dir = await mkdtemp(join(tmpdir(), "download-"));
  // The API's playlist route, as the page links it: the archived copy of one VOD.
  const archived = new Map<string, string>();
  api = createServer((req, res) => {
    const body = archived.get(req.url ?? "");
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/vnd.apple.mpegurl" }).end(body ?? "");
  });
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
  const v = truth("short_one");
  archived.set(apiPath(v), await cdnPlaylist(v));
}, 120_000);

afterAll(async () => {
  api?.close();
  await t?.drop();
  await sim?.close();
});

const truth = (login: string): VodTruth => sim.vods({ login, state: "ended" })[0]!;
const apiPath = (v: VodTruth) => `/m3u8/${v.streamId}/${Date.parse(v.startTime) / 1000}/index.m3u8`;
const tracker = (v: VodTruth) => `https://twitchtracker.com/${v.login}/streams/${v.streamId}`;
const minuteOf = (v: VodTruth) => v.startTime.slice(0, 16).replace("T", " ");
const envVars = (): Record<string, string> => ({ ...simRecoverEnv(sim, t.url, DOMAINS), DOWNLOAD_BACKOFF: "50ms" });
const download = async (argv: string[], over: Record<string, string> = {}): Promise<DownloadReport> =>
  JSON.parse(
    await downloadCommand([...argv, "--json"], downloadEnvSchema.parse({ ...envVars(), ...over }), {
      note: (m) => notes.push(m),
      progress: { write: () => undefined },
      now: () => sim.clock.now(),
    }),
  ) as DownloadReport;
const segmentRequests = () =>
  sim
    .stats()
    .requests.filter((r) => r.kind === "segment")
    .reduce((sum, r) => sum + r.count, 0);

async function cdnPlaylist(v: VodTruth): Promise<string> {
  const url = sim.cdnBaseUrl(v.domain) + v.path;
  return processPlaylist(await (await fetch(url)).text(), url).text;
}

/** The MP4's duration as ffprobe reads it, in seconds. */
async function probe(file: string): Promise<number> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      "ffprobe",
      ["-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "json", file],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );
  const info = JSON.parse(out) as { format: { duration: string }; streams: { codec_type: string }[] };
  expect(info.streams.map((s) => s.codec_type).sort()).toEqual(["audio", "video"]);
  return Number(info.format.duration);
}

describe("vods download (simulator, PostgreSQL, ffmpeg)", () => {
  it("a whole VOD from a tracker link: every segment, remuxed into an MP4 as long as the VOD", async () => {
    const v = truth("short_one");
    const out = join(dir, "whole.mp4");
    sim.resetStats();
    const r = await download([tracker(v), "--time", minuteOf(v), "--out", out]);
    expect(r).toMatchObject({ out, login: v.login, streamId: v.streamId, quality: "chunked", via: "listing" });
    expect(r).toMatchObject({ segments: v.segments, fetched: v.segments, reused: 0, dead: [], from: 0 });
    expect(segmentRequests()).toBe(v.segments);
    expect(Math.abs((await probe(out)) - r.seconds)).toBeLessThan(10);
    expect(r.seconds).toBe(180);
    // The work directory goes once the MP4 is whole.
    expect(existsSync(`${out}.parts`)).toBe(false);
  });

  it("a range from the page's playlist link: the segments covering it, within a segment of the range", async () => {
    const v = truth("short_one");
    const out = join(dir, "range.mp4");
    sim.resetStats();
    const r = await download([`${apiUrl}${apiPath(v)}`, "--from", "0:35", "--to", "1:52", "--out", out]);
    // 0:35–1:52 lies in the segments 30–40 … 110–120: nine of them, cut at keyframes 2 s apart.
    expect(r).toMatchObject({ via: "link", login: v.login, streamId: v.streamId, startTime: v.startTime });
    expect(r).toMatchObject({ from: 35, to: 112, seconds: 77, segments: 9 });
    expect(segmentRequests()).toBe(9);
    expect(Math.abs((await probe(out)) - 77)).toBeLessThan(10);
  });

  it("--quality: the rendition beside the source; one that does not exist names those that do", async () => {
    const v = truth("short_one");
    const out = join(dir, "720.mp4");
    const r = await download([sim.cdnBaseUrl(v.domain) + v.path, "--quality", "720p60", "--to", "20", "--out", out]);
    expect(r).toMatchObject({ quality: "720p60", segments: 2, from: 0, to: 20 });
    expect(r.playlist).toMatch(/\/720p60\/index-dvr\.m3u8$/);
    const err = await download([sim.cdnBaseUrl(v.domain) + v.path, "--quality", "4k"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      "this VOD has no 4k rendition (HTTP 403); it has: chunked (source), 1080p60, 720p60, 480p30, 360p30, 160p30, audio_only",
    );
  });

  it("dead segments are skipped and reported with their times; muted ones count as alive", async () => {
    const v = truth("muted_two");
    expect(v.mutedSegmentsNow).toBe(2);
    // Archived before the mute run: 2.ts and 3.ts were renamed -muted since, so the copy names dead files.
    const early = (await cdnPlaylist(v)).replace(/(\d+)-muted\.ts/g, "$1.ts");
    await archiveFound(t.db, sim, v, early);
    const out = join(dir, "dead.mp4");
    const r = await download([tracker(v), "--out", out]);
    expect(r.via).toBe("archive");
    expect(r.dead.map((d) => [d.index, d.from, d.to, d.status])).toEqual([
      [2, 20, 30, "HTTP 403"],
      [3, 30, 40, "HTTP 403"],
    ]);
    expect(r.segments).toBe(v.segments - 2);
    expect(Math.abs((await probe(out)) - (v.segments - 2) * 10)).toBeLessThan(10);
    // The CDN's own playlist names them -muted: alive.
    const muted = await download([sim.cdnBaseUrl(v.domain) + v.path, "--out", join(dir, "muted.mp4")]);
    expect(muted).toMatchObject({ segments: v.segments, dead: [] });
  });

  it("a download killed midway resumes: the second run fetches only the segments not yet on disk", async () => {
    const v = truth("long_three");
    const out = join(dir, "killed.mp4");
    sim.faults.add({ id: "slow", kind: "latency", target: "cdn", ms: 300 });
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "packages/cli/src/main.ts", "download", tracker(v), "--time", v.startTime, "--out", out],
      {
        cwd: ROOT,
        env: { ...process.env, ...envVars(), DOWNLOAD_CONCURRENCY: "2" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const whole = async () => (await readdir(`${out}.parts`).catch(() => [])).filter((f) => f.endsWith(".ts"));
    const deadline = Date.now() + 60_000;
    while ((await whole()).length < 8) {
      expect(child.exitCode, stderr).toBeNull();
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    sim.faults.clear(["slow"]);
    // Requests the child had in flight are answered (and counted) after their delay.
    await new Promise((r) => setTimeout(r, 1_000));
    const kept = (await whole()).length;
    expect(kept).toBeGreaterThanOrEqual(8);
    expect(kept).toBeLessThan(v.segments);
    // Its progress lines went to stderr (not a terminal: whole lines).
    expect(stderr).toMatch(/^segments \d+\/30 · [\d.]+ MB · [\d.]+ MB\/s · ETA /m);

    sim.resetStats();
    const r = await download([tracker(v), "--time", v.startTime, "--out", out]);
    expect(r).toMatchObject({ reused: kept, fetched: v.segments - kept, segments: v.segments });
    expect(segmentRequests()).toBe(v.segments - kept);
    expect(Math.abs((await probe(out)) - v.segments * 10)).toBeLessThan(10);
  });

  it("segments still failing after the retries: exit 1, nothing written, the next run fetches them", async () => {
    const v = truth("short_one");
    const out = join(dir, "failing.mp4");
    // The playlist comes from the API; only the CDN's segments fail.
    sim.faults.add({ id: "cdn-503", kind: "down", target: "cdn", status: 503 });
    sim.resetStats();
    const err = await download([`${apiUrl}${apiPath(v)}`, "--to", "0:20", "--out", out], {
      DOWNLOAD_RETRIES: "2",
    }).catch((e: unknown) => e);
    sim.faults.clear(["cdn-503"]);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(
      /^2 segments could not be fetched \(.*\/0\.ts: HTTP 503\); the 0 whole ones are kept in .*failing\.mp4\.parts: run the same command again to fetch the rest$/,
    );
    // Each tried three times.
    expect(segmentRequests()).toBe(6);
    expect(existsSync(out)).toBe(false);
    const r = await download([`${apiUrl}${apiPath(v)}`, "--to", "0:20", "--out", out]);
    expect(r).toMatchObject({ segments: 2, fetched: 2, reused: 0 });
  });

  it("refuses bad ranges and arguments with what is wrong", async () => {
    const link = sim.cdnBaseUrl(truth("short_one").domain) + truth("short_one").path;
    await expect(download([link, "--from", "2:00", "--to", "1:00"])).rejects.toThrow(
      /--from 2:00 must come before --to 1:00/,
    );
    await expect(download([link, "--from", "1:75"])).rejects.toThrow(/minutes and seconds after a colon go up to 59/);
    await expect(download([link, "--to", "soon"])).rejects.toThrow(/--to "soon" is not a time into the VOD/);
    await expect(download([link, "--to", "4:00"])).rejects.toThrow(/--to 4:00 is past the VOD's end \(it lasts 3:00\)/);
    await expect(download([link, "--from", "3:00"])).rejects.toThrow(/--from 3:00 is at or past the VOD's end/);
    await expect(download(["https://twitchtracker.com/somebody"])).rejects.toThrow(UsageError);
  });
});
