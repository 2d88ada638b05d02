// Playable for real: a playlist archived from the simulator's CDN (the real MPEG-TS segment it serves by
// default, as in the demo), served by the API, decodes in ffmpeg and plays in Chromium through the page.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { processPlaylist } from "@vod/twitch";
import { segmentBody, startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { insertVods, testApi, type TestApi } from "./testing.ts";

const CHROMIUM = "/usr/bin/chromium";

let tdb: TestDatabase;
let api: TestApi;
let sim: Simulator;
let base: string;
let vod: VodTruth;
let playlistPath: string;

beforeAll(async () => {
  // Both come from Debian through `npm test` (infra/ensure-deps.sh --media); without them this must fail, not pass.
  expect(spawnSync("ffmpeg", ["-version"]).status, "ffmpeg is missing: run bash infra/ensure-deps.sh --media").toBe(0);
  expect(existsSync(CHROMIUM), "chromium is missing: run bash infra/ensure-deps.sh --media").toBe(true);
  sim = await startSimulator({ seed: 3, streams: 20, segment: segmentBody("playable") });
  sim.clock.advance(3 * 3_600_000);
  vod = sim.vods({ state: "ended" }).find((v) => v.onCdn && v.saved && !v.deleted)!;
  expect(vod).toBeDefined();
  // Archived as the fetcher archives it: the CDN's playlist with absolute URIs, gzipped.
  const url = `${sim.cdnBaseUrl(vod.domain)}${vod.path}`;
  const processed = processPlaylist(await (await fetch(url)).text(), url);
  tdb = await freshDatabase();
  api = await testApi(tdb.url);
  await insertVods(tdb.pool, [
    {
      streamId: Number(vod.streamId),
      startTime: vod.startTime,
      streamerId: Number(vod.streamerId),
      login: vod.login,
      playlist: processed.text,
      durationSeconds: processed.durationSeconds,
      segmentCount: processed.segments,
      mutedCount: processed.mutedSegments,
    },
  ]);
  // Its segments were last checked three hours ago: the page says so.
  await tdb.pool.query("update vods set playable = 'playable', playable_checked_at = now() - interval '3 hours'");
  base = await api.app.listen({ host: "127.0.0.1", port: 0 });
  playlistPath = `/m3u8/${vod.streamId}/${Math.floor(Date.parse(vod.startTime) / 1000)}/index.m3u8`;
}, 120_000);
afterAll(async () => {
  await api?.close();
  await sim?.close();
  await tdb?.drop();
});

describe("an archived VOD plays", () => {
  it("decodes in ffmpeg through the API's playlist route and the simulator's CDN", async () => {
    // Asynchronously: the API and the simulator answer ffmpeg from this process's event loop.
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        "ffmpeg",
        ["-v", "error", "-i", `${base}${playlistPath}`, "-t", "5", "-f", "null", "-"],
        { timeout: 60_000 },
        (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("plays in the web page: search the login, press Play, the video advances", async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
      });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      // A load the CSP refuses is reported on the console only.
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
      });
      const served = await page.goto(`${base}/`);
      expect(served?.headers()["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
      await page.getByLabel("Channel").fill(vod.login);
      await page.keyboard.press("Enter");
      const play = page.getByRole("button", { name: `Play ${vod.login}` }).first();
      await play.waitFor({ timeout: 15_000 });
      expect(await page.locator("#vods tbody td.plays").first().textContent()).toBe("playable (checked 3 h ago)");
      await page
        .getByRole("button", { name: `Copy a download command for ${vod.login}` })
        .first()
        .click();
      expect(await page.locator("#status").textContent()).toContain(
        `npm run vods -- download '${base}${playlistPath}'`,
      );
      // By keyboard: the Play button is reachable and pressed with Enter.
      await play.focus();
      await page.keyboard.press("Enter");
      // Polled from here: a predicate evaluated in the page would be a string eval, which the CSP refuses.
      const video = page.locator("video");
      const deadline = Date.now() + 30_000;
      while ((await video.evaluate((v: { currentTime: number }) => v.currentTime)) <= 1) {
        expect(Date.now(), "the video did not advance past 1 s within 30 s").toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await page.locator("#now-playable").textContent()).toBe("Segments: playable (checked 3 h ago)");
      expect(errors).toEqual([]);
      expect(await page.locator("#status").textContent()).not.toMatch(/failed/i);
    } finally {
      await browser?.close();
    }
  });
});
