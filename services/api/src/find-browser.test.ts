// The Find box in Chromium against the simulator: a VOD the archive lacks is searched on the CDN with its
// progress in the page, then played; an archived one comes back from the archive with no CDN request.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { segmentBody } from "@vod/twitch-sim";
import { findApi, findOptions, findWorld, localTime, type FindApi, type FindWorld } from "./find-testing.ts";

const CHROMIUM = "/usr/bin/chromium";
// The README's picture is refreshed on request (FIND_SCREENSHOT=1); otherwise the shot goes to a temporary file,
// so a test run leaves the tree as it was.
const SCREENSHOT = process.env.FIND_SCREENSHOT
  ? join(dirname(fileURLToPath(import.meta.url)), "../../../docs/find.png")
  : join(tmpdir(), `find-${process.pid}.png`);
const ZONE = "Asia/Tokyo";

let world: FindWorld;
let api: FindApi;
let browser: Browser;

beforeAll(async () => {
  // From Debian through `npm test` (infra/ensure-deps.sh --media); without it this must fail, not pass.
  expect(existsSync(CHROMIUM), "chromium is missing: run bash infra/ensure-deps.sh --media").toBe(true);
  world = await findWorld({ segment: segmentBody("playable") });
  await world.archive("archived_one");
  api = await findApi(world, findOptions(world.sim));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    // The zone of the browser itself, besides the context's emulation, which a busy renderer was seen to miss.
    env: { ...process.env, TZ: ZONE },
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await world?.close();
});

/** A page in `ZONE`, collecting script errors and loads the CSP refused. */
async function open(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ timezoneId: ZONE, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  const served = await page.goto(`${api.base}/`);
  expect(served?.status(), await served?.text()).toBe(200);
  return { page, errors };
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    expect(Date.now(), `${what} within ${ms / 1000} s`).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("Find in the page", () => {
  it("a TwitchTracker link and a local time in another zone: progress in the page, then Play", async () => {
    const vod = world.truth("hidden_one");
    const { page, errors } = await open();
    await page
      .getByLabel("Stream link, video link, login or stream id")
      .fill(`https://twitchtracker.com/${vod.login}/streams/${vod.streamId}`);
    await page.getByLabel(/Started at/).fill(localTime(vod.startTime, ZONE));
    // The browser's zone, and UTC beside the local time, as the browser reads it.
    expect(await page.locator("#find-zone").textContent()).toBe(ZONE);
    expect(await page.locator("#find-utc").textContent()).toBe(
      `= ${vod.startTime.replace("T", " ").replace("Z", "")} UTC`,
    );
    world.sim.resetStats();
    await page.keyboard.press("Enter");

    const status = page.locator("#find-status");
    await until("the find", async () => (await status.textContent()) === "Found.");
    const progress = await page.locator("#find-progress li").allTextContents();
    expect(progress.some((l) => /not in our archive; searching/.test(l))).toBe(true);
    expect(progress.some((l) => /searching the CDN: \d+ candidate paths on 4 domains/.test(l))).toBe(true);
    const summary = await page.locator("#find-summary").textContent();
    expect(summary).toContain(`Found ${vod.login}'s stream ${vod.streamId}`);
    expect(summary).toMatch(/on the CDN: \d+ CDN requests/);
    expect(await page.locator("#find-check").textContent()).toMatch(/3 checked, all alive/);
    expect(await page.locator("#find-mpv").textContent()).toMatch(
      /^mpv "http:\/\/127\.0\.0\.1:\d+\/v1\/finds\/[0-9a-f-]+\/index\.m3u8"$/,
    );
    expect(world.sim.stats().cdn.requests).toBeGreaterThan(0);

    // Play has the focus once found: Enter plays it in the page.
    await page.keyboard.press("Enter");
    const video = page.locator("video");
    await until(
      "the video advancing past 1 s",
      async () => (await video.evaluate((v: { currentTime: number }) => v.currentTime)) > 1,
    );
    expect(errors).toEqual([]);
    await page.screenshot({ path: SCREENSHOT });
    // Its player would go on fetching segments from the simulator's CDN.
    await page.context().close();
  }, 90_000);

  it("a twitch.tv/videos link of an archived VOD comes back from the archive with no CDN request", async () => {
    const vod = world.truth("archived_one");
    const { page, errors } = await open();
    world.sim.resetStats();
    await page
      .getByLabel("Stream link, video link, login or stream id")
      .fill(`https://www.twitch.tv/videos/${vod.videoId}`);
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await until(
      "the archive's answer",
      async () => (await page.locator("#find-status").textContent()) === "Found.",
      15_000,
    );
    expect(await page.locator("#find-summary").textContent()).toContain("in our archive (no CDN request)");
    expect(await page.locator("#find-progress li").count()).toBe(0);
    const stats = world.sim.stats();
    expect(stats.cdn.requests).toBe(0);
    expect(stats.gql.requests).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
