import { describe, expect, it } from "vitest";
import {
  DEFAULT_PLAYLIST_LIMITS,
  isPlaylist,
  latestStartMs,
  PlaylistRefused,
  processPlaylist,
  type PlaylistLimits,
} from "./playlist.ts";

const URL_ =
  "https://d1m7jfoe9zdc1j.cloudfront.net/c5992ececce7bd7d350d_gmhikaru_47198535725_1664038929/chunked/index-dvr.m3u8";
const BASE = "https://d1m7jfoe9zdc1j.cloudfront.net/c5992ececce7bd7d350d_gmhikaru_47198535725_1664038929/chunked/";

describe("processPlaylist", () => {
  it("makes segment URIs absolute, rewrites -unmuted to -muted, counts segments, muted ones and duration", () => {
    const body = [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-TARGETDURATION:10",
      "#EXT-X-TWITCH-TOTAL-SECS:24.500",
      "#EXTINF:10.000,",
      "0.ts",
      "#EXTINF:10.000,",
      "1-unmuted.ts",
      "#EXTINF:4.500,",
      "2-muted.ts",
      "#EXT-X-ENDLIST",
      "",
    ].join("\n");
    const p = processPlaylist(body, URL_);
    expect(p.text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:10",
        "#EXT-X-TWITCH-TOTAL-SECS:24.500",
        "#EXTINF:10.000,",
        `${BASE}0.ts`,
        "#EXTINF:10.000,",
        `${BASE}1-muted.ts`,
        "#EXTINF:4.500,",
        `${BASE}2-muted.ts`,
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
    expect(p).toMatchObject({ segments: 3, mutedSegments: 2, durationSeconds: 24.5 });
  });

  it("resolves the fMP4 init map and keeps absolute URIs on a CDN domain", () => {
    const body =
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-MAP:URI="init-0.mp4"\n#EXTINF:2.000,\n0-unmuted.mp4\n#EXTINF:2.000,\nhttps://vod-secure.twitch.tv/1.mp4\n';
    const p = processPlaylist(body, URL_);
    expect(p.text.split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:6",
      `#EXT-X-MAP:URI="${BASE}init-0.mp4"`,
      "#EXTINF:2.000,",
      `${BASE}0-muted.mp4`,
      "#EXTINF:2.000,",
      "https://vod-secure.twitch.tv/1.mp4",
      "",
    ]);
    expect(p).toMatchObject({ segments: 2, mutedSegments: 1, durationSeconds: 4, skippedLines: 0 });
  });

  it("works against a simulator-style base with a path prefix and CRLF line ends", () => {
    const p = processPlaylist(
      "#EXTM3U\r\n#EXTINF:10.000,\r\n0.ts\r\n",
      "http://127.0.0.1:8900/cdn/vod-secure.twitch.tv/abc/chunked/index-dvr.m3u8",
    );
    expect(p.text).toBe("#EXTM3U\n#EXTINF:10.000,\nhttp://127.0.0.1:8900/cdn/vod-secure.twitch.tv/abc/chunked/0.ts\n");
  });
});

describe("processPlaylist with an untrusted body", () => {
  const limits = (over: Partial<PlaylistLimits>): PlaylistLimits => ({ ...DEFAULT_PLAYLIST_LIMITS, ...over });
  const segs = (n: number) => Array.from({ length: n }, (_, i) => `#EXTINF:10.000,\n${i}.ts`).join("\n");

  it("leaves out URIs of other schemes and hosts, unresolvable ones and junk lines, counts them, and keeps the rest", () => {
    const hostile = [
      "file:///etc/passwd",
      "//elsewhere.example/x.ts",
      "http://169.254.169.254/latest/meta-data/",
      "javascript:alert(1)",
      "http://[0/0.ts",
      "https://user:pw@vod-secure.twitch.tv/2.ts",
      '#EXT-X-KEY:METHOD=AES-128,URI="http://169.254.169.254/key"',
      '#EXT-X-MAP:URI="init.mp4",X=URI="file:///x"',
      `${"a".repeat(3000)}.ts`,
      "3\u0000.ts",
      "#EXTINF:1e400,",
      "#EXTINF:-5,",
    ];
    const body = [
      "#EXTM3U",
      "#EXTINF:10.000,",
      "0.ts",
      ...hostile,
      // A segment left out takes its EXTINF with it: no dangling duration, none counted.
      "#EXTINF:7.000,",
      "http://169.254.169.254/x.ts",
      "#EXTINF:10.000,",
      "/abs/1.ts",
      "#EXT-X-ENDLIST",
    ];
    const p = processPlaylist(body.join("\n"), URL_);
    expect(p.text.split("\n")).toEqual([
      "#EXTM3U",
      "#EXTINF:10.000,",
      `${BASE}0.ts`,
      "#EXTINF:10.000,",
      "https://d1m7jfoe9zdc1j.cloudfront.net/abs/1.ts",
      "#EXT-X-ENDLIST",
    ]);
    expect(p).toMatchObject({ segments: 2, skippedLines: hostile.length + 1, durationSeconds: 20 });
    expect(p.firstSkipped).toBe("file:///etc/passwd");
    expect(p.text).not.toMatch(/169\.254|file:|elsewhere|javascript|user:pw/);
  });

  it("keeps a host of the CDN list it is given, and the playlist's own host on any port", () => {
    const body =
      "#EXTM3U\nhttps://d2nvs31859zcd8.cloudfront.net/a.ts\nhttp://127.0.0.1:9/b.ts\nhttps://x.example/c.ts\n";
    const p = processPlaylist(body, "http://127.0.0.1:8900/cdn/v/index-dvr.m3u8", limits({ hosts: new Set() }));
    expect(p.text).toBe("#EXTM3U\nhttp://127.0.0.1:9/b.ts\n");
    const q = processPlaylist(body, URL_, limits({ hosts: new Set(["x.example"]) }));
    expect(q.text).toBe("#EXTM3U\nhttps://x.example/c.ts\n");
    expect(q.skippedLines).toBe(2);
  });

  it("refuses a playlist over the segment cap, whatever its lines", () => {
    expect(processPlaylist(`#EXTM3U\n${segs(100)}\n`, URL_, limits({ maxSegments: 100 })).segments).toBe(100);
    expect(() => processPlaylist(`#EXTM3U\n${segs(101)}\n`, URL_, limits({ maxSegments: 100 }))).toThrow(
      new PlaylistRefused("playlist has more than 100 segments (the cap)"),
    );
    // Bad lines count too: a flood of junk URIs costs a URL parse each.
    const junk = `#EXTM3U\n${"file:///x\n".repeat(101)}`;
    expect(() => processPlaylist(junk, URL_, limits({ maxSegments: 100 }))).toThrow(PlaylistRefused);
  });

  it("refuses input and output over their caps; 2.5 MiB of short lines no longer becomes 145 MB", () => {
    const body = `#EXTM3U\n${segs(2_000)}\n`;
    expect(() => processPlaylist(body, URL_, limits({ maxInputBytes: body.length - 1 }))).toThrow(/over the cap of/);
    expect(() => processPlaylist(body, URL_, limits({ maxOutputBytes: 100_000 }))).toThrow(
      "processed playlist is over the cap of 100000 bytes",
    );
    const bomb = `#EXTM3U\n${"0\n".repeat(1.25 * 1024 * 1024)}`;
    // Refused at the 50,001st line: the rest is never split, resolved or joined.
    expect(() => processPlaylist(bomb, URL_)).toThrow("playlist has more than 50000 segments (the cap)");
  });

  it("a 48-hour VOD of 10 s segments fits the default caps", () => {
    const p = processPlaylist(`#EXTM3U\n${segs(17_280)}\n#EXT-X-ENDLIST\n`, URL_);
    expect(p.segments).toBe(17_280);
    expect(Buffer.byteLength(p.text)).toBeLessThan(DEFAULT_PLAYLIST_LIMITS.maxOutputBytes / 2);
  });
});

describe("isPlaylist", () => {
  it("accepts #EXTM3U, refuses error pages and bucket listings", () => {
    expect(isPlaylist("#EXTM3U\n")).toBe(true);
    expect(isPlaylist("\uFEFF#EXTM3U\n")).toBe(true);
    expect(isPlaylist('<?xml version="1.0"?><ListBucketResult>')).toBe(false);
    expect(isPlaylist("")).toBe(false);
  });
});

describe("latestStartMs", () => {
  const tags = (tdtg: string, total: string) =>
    ["#EXTM3U", `#ID3-EQUIV-TDTG:${tdtg}`, `#EXT-X-TWITCH-TOTAL-SECS:${total}`, "#EXTINF:10.000,", "0.ts"].join("\n");

  it("is the write time less the duration, read as UTC, with the second either tag lost", () => {
    expect(latestStartMs(tags("2024-12-29T23:36:07", "23510.000"))).toBe(
      Date.parse("2024-12-29T23:36:07Z") + 1000 - 23_510_000,
    );
    expect(latestStartMs(tags("2025-01-06T13:00:00", "600.900"))).toBe(Date.parse("2025-01-06T12:50:01Z"));
  });

  it("is null without either tag or with a malformed time", () => {
    expect(latestStartMs("#EXTM3U\n#EXT-X-TWITCH-TOTAL-SECS:10.000\n")).toBeNull();
    expect(latestStartMs("#EXTM3U\n#ID3-EQUIV-TDTG:2024-12-29T23:36:07\n")).toBeNull();
    expect(latestStartMs(tags("2024-13-45T99:00:00", "10.000"))).toBeNull();
  });
});
