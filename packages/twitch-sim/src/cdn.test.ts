import { vodPath } from "@vod/twitch";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HOSTILE_URIS } from "./cdn.ts";
import { startSimulator, type Simulator } from "./server.ts";
import { DEFAULT_START } from "./simulator-options.ts";
import { get, getWithHost } from "./testing.ts";

let sim: Simulator;
const MIN = 60_000;

beforeEach(async () => {
  // Starts 12:00:00 UTC; the session runs 12:05-12:25 and the mute run that follows is 13:00.
  sim = await startSimulator({
    seed: 1,
    streams: 0,
    streamers: [
      {
        login: "malek_04",
        viewers: 50,
        domain: "d2nvs31859zcd8.cloudfront.net",
        sessions: [{ start: "+5m", duration: "20m", muted: [[3, 6]] }],
      },
      { login: "ghost", viewers: 5, savesVods: false, sessions: [{ start: "-1h", duration: "30m" }] },
      { login: "eraser", viewers: 5, sessions: [{ start: "-1h", duration: "30m", deleteAfter: "40m" }] },
    ],
  });
});
afterEach(() => sim.close());

const only = (login: string) => {
  const [vod] = sim.vods({ login });
  if (!vod) throw new Error(`no VOD for ${login}`);
  return vod;
};
const segmentsOf = (playlist: string) => playlist.split("\n").filter((l) => l.endsWith(".ts"));
const segUrl = (vod: { domain: string; path: string }, file: string) =>
  sim.playlistUrl(vod).replace("index-dvr.m3u8", file);

describe("CDN", () => {
  it("answers 403 for missing keys, wrong domains, bad hashes and unknown renditions", async () => {
    sim.clock.advance(10 * MIN);
    const vod = only("malek_04");
    expect((await get(sim.playlistUrl(vod))).status).toBe(200);
    expect((await get(`${sim.cdnBaseUrl("vod-secure.twitch.tv")}${vod.path}`)).status).toBe(403);
    const otherTs = vodPath(vod.login, vod.streamId, vod.ts - 1);
    expect((await get(`${sim.cdnBaseUrl(vod.domain)}${otherTs}`)).status).toBe(403);
    const badHash = `0000000000${vod.path.slice(10)}`;
    const res = await get(`${sim.cdnBaseUrl(vod.domain)}${badHash}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain("<Code>AccessDenied</Code>");
    expect((await get(sim.playlistUrl(vod).replace("/chunked/", "/4k/"))).status).toBe(403);
    expect((await get(sim.playlistUrl(vod).replace("/chunked/", "/720p60/"))).status).toBe(200);
    expect((await get(`${sim.cdnBaseUrl(vod.domain)}nothing/here`)).status).toBe(403);
    expect((await get(`${sim.url}/cdn/not-a-cdn.example/${vod.path}`)).status).toBe(404);
    expect((await get(`${sim.cdnBaseUrl(vod.domain)}%E0%A4%A`)).status).toBe(400); // undecodable path
    expect((await get(sim.playlistUrl(vod))).status).toBe(200); // and the server is still up
  });

  it("addresses domains by Host header as well as by path prefix", async () => {
    sim.clock.advance(10 * MIN);
    const vod = only("malek_04");
    const byHost = await getWithHost(sim, vod.domain, `/${vod.path}`);
    expect(byHost.status).toBe(200);
    expect(byHost.text).toBe((await get(sim.playlistUrl(vod))).text);
    expect((await getWithHost(sim, "vod-secure.twitch.tv", `/${vod.path}`)).status).toBe(403);
    const stats = sim.stats();
    expect(stats.byDomain[vod.domain]).toBe(2);
    expect(stats.byDomain["vod-secure.twitch.tv"]).toBe(1);
  });

  it("grows the playlist while live, adds ENDLIST at the end, and renames muted segments only at the next mute run", async () => {
    expect(sim.vods({ login: "malek_04" })).toEqual([]); // not started yet
    sim.clock.advance(10 * MIN); // 12:10, live for 5 minutes
    const vod = only("malek_04");
    let playlist = (await get(sim.playlistUrl(vod))).text;
    expect(playlist.startsWith("#EXTM3U\n")).toBe(true);
    expect(playlist).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(playlist).not.toContain("#EXT-X-ENDLIST");
    expect(segmentsOf(playlist)).toHaveLength(30);

    sim.clock.advance(5 * MIN); // 12:15
    playlist = (await get(sim.playlistUrl(vod))).text;
    expect(segmentsOf(playlist)).toHaveLength(60);
    expect((await get(segUrl(vod, "59.ts"))).status).toBe(200);
    expect((await get(segUrl(vod, "60.ts"))).status).toBe(403);

    sim.clock.advance(15 * MIN); // 12:30, ended at 12:25
    playlist = (await get(sim.playlistUrl(vod))).text;
    expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    expect(playlist).toContain("#EXT-X-TWITCH-TOTAL-SECS:1200.000");
    expect(segmentsOf(playlist)).toHaveLength(120);
    expect(playlist).not.toContain("-muted");
    expect(only("malek_04")).toMatchObject({ live: false, muteRunAt: "2025-01-06T13:00:00Z", muteApplied: false });

    sim.clock.set(DEFAULT_START + 60 * MIN - 1000); // 12:59:59
    playlist = (await get(sim.playlistUrl(vod))).text;
    expect(playlist).not.toContain("-muted");
    expect((await get(segUrl(vod, "3.ts"))).status).toBe(200);
    expect((await get(segUrl(vod, "3-muted.ts"))).status).toBe(403);

    sim.clock.advance(1000); // 13:00:00, the mute run
    playlist = (await get(sim.playlistUrl(vod))).text;
    expect(segmentsOf(playlist).slice(0, 7)).toEqual([
      "0.ts",
      "1.ts",
      "2.ts",
      "3-muted.ts",
      "4-muted.ts",
      "5-muted.ts",
      "6.ts",
    ]);
    expect((await get(segUrl(vod, "3.ts"))).status).toBe(403);
    expect((await get(segUrl(vod, "3-muted.ts"))).status).toBe(200);
    expect(only("malek_04")).toMatchObject({ muteApplied: true, mutedSegmentsNow: 3 });
  });

  it("puts mute runs on multiples of a configured interval since the epoch", async () => {
    const fast = await startSimulator({
      streams: 0,
      muteIntervalMs: 10 * MIN,
      streamers: [{ login: "quick", viewers: 1, sessions: [{ start: "+1m", duration: "3m", muted: [[0, 1]] }] }],
    });
    try {
      fast.clock.advance(5 * MIN); // ended 12:04; next run 12:10
      const vod = fast.vods()[0];
      if (!vod) throw new Error("no VOD");
      expect(vod.muteRunAt).toBe("2025-01-06T12:10:00Z");
      expect((await get(fast.playlistUrl(vod))).text).not.toContain("0-muted.ts");
      fast.clock.advance(5 * MIN);
      expect((await get(fast.playlistUrl(vod))).text).toContain("0-muted.ts");
    } finally {
      await fast.close();
    }
  });

  it("never serves an unsaved VOD, and drops a deleted one's segments before its playlist", async () => {
    const ghost = only("ghost");
    expect(ghost.saved).toBe(false);
    expect((await get(sim.playlistUrl(ghost))).status).toBe(403);

    const eraser = only("eraser"); // ended 11:30, deleted 12:10
    expect(eraser.deletedAt).toBe("2025-01-06T12:10:00Z");
    expect((await get(sim.playlistUrl(eraser))).status).toBe(200);
    expect((await get(segUrl(eraser, "0.ts"))).status).toBe(200);
    sim.clock.advance(10 * MIN);
    expect((await get(segUrl(eraser, "0.ts"))).status).toBe(403);
    const lingering = await get(sim.playlistUrl(eraser));
    expect(lingering.status).toBe(200);
    expect(lingering.text.startsWith("#EXTM3U")).toBe(true);
    sim.clock.advance(2 * MIN);
    expect((await get(sim.playlistUrl(eraser))).status).toBe(403);
    expect(only("eraser")).toMatchObject({ deleted: true, public: false });
  });

  it("answers 403 on dead domains, except the one that lists an unrelated bucket", async () => {
    sim.clock.advance(10 * MIN);
    const vod = only("malek_04");
    expect((await get(`${sim.cdnBaseUrl("d2e2de1etea730.cloudfront.net")}${vod.path}`)).status).toBe(403);
    const listing = await get(`${sim.cdnBaseUrl("d3aqoihi2n8ty8.cloudfront.net")}${vod.path}`);
    expect(listing.status).toBe(200);
    expect(listing.text.startsWith("#EXTM3U")).toBe(false);
    expect(listing.text).toContain("ListBucketResult");
  });

  it("a malformed fault breaks, poisons or bloats a playlist that still ends with ENDLIST", async () => {
    sim.clock.advance(90 * MIN);
    const vod = only("malek_04");
    sim.faults.add({ id: "m", kind: "malformed", logins: ["malek_04"] });
    const broken = (await get(sim.playlistUrl(vod))).text;
    expect(broken).toMatch(/^http:\/\/\[0\/0\.ts$/m);
    sim.faults.add({ id: "m", kind: "malformed", mode: "hostile" });
    const hostile = (await get(sim.playlistUrl(vod))).text;
    for (const uri of HOSTILE_URIS) expect(hostile).toContain(`\n${uri}\n`);
    expect(hostile).toContain('URI="http://169.254.169.254/key"');
    expect(hostile.endsWith("\n#EXT-X-ENDLIST\n")).toBe(true);
    sim.faults.add({ id: "m", kind: "malformed", mode: "bloated", bytes: 100_000 });
    const bloated = (await get(sim.playlistUrl(vod))).text;
    expect(bloated.length).toBeGreaterThan(99_990);
    expect(bloated.length).toBeLessThanOrEqual(100_000);
    expect(bloated.endsWith("\n0\n#EXT-X-ENDLIST\n")).toBe(true);
    sim.faults.clear(["m"]);
    expect((await get(sim.playlistUrl(vod))).text).toBe(
      hostile.split("#EXT-X-KEY")[0]!.replace("http://[0/0.ts", "0.ts") + "#EXT-X-ENDLIST\n",
    );
  });

  it("counts requests by domain, kind and status", async () => {
    sim.clock.advance(10 * MIN);
    const vod = only("malek_04");
    await get(sim.playlistUrl(vod));
    await get(segUrl(vod, "0.ts"));
    await get(segUrl(vod, "999.ts"));
    const stats = sim.stats();
    expect(stats.requests).toEqual([
      { domain: vod.domain, kind: "playlist", status: 200, count: 1 },
      { domain: vod.domain, kind: "segment", status: 200, count: 1 },
      { domain: vod.domain, kind: "segment", status: 403, count: 1 },
    ]);
    expect(stats.cdn.requests).toBe(3);
    expect(stats.cdn.maxPerSecond).toBeGreaterThanOrEqual(1);
    sim.resetStats();
    expect(sim.stats().total).toBe(0);
  });
});
