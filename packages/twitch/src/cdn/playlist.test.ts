import { describe, expect, it } from "vitest";
import { isPlaylist, latestStartMs, processPlaylist } from "./playlist.ts";

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

  it("resolves the fMP4 init map and keeps URIs that are already absolute", () => {
    const body =
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-MAP:URI="init-0.mp4"\n#EXTINF:2.000,\n0-unmuted.mp4\n#EXTINF:2.000,\nhttps://elsewhere.example/1.mp4\n';
    const p = processPlaylist(body, URL_);
    expect(p.text.split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:6",
      `#EXT-X-MAP:URI="${BASE}init-0.mp4"`,
      "#EXTINF:2.000,",
      `${BASE}0-muted.mp4`,
      "#EXTINF:2.000,",
      "https://elsewhere.example/1.mp4",
      "",
    ]);
    expect(p).toMatchObject({ segments: 2, mutedSegments: 1, durationSeconds: 4 });
  });

  it("works against a simulator-style base with a path prefix and CRLF line ends", () => {
    const p = processPlaylist(
      "#EXTM3U\r\n#EXTINF:10.000,\r\n0.ts\r\n",
      "http://127.0.0.1:8900/cdn/vod-secure.twitch.tv/abc/chunked/index-dvr.m3u8",
    );
    expect(p.text).toBe("#EXTM3U\n#EXTINF:10.000,\nhttp://127.0.0.1:8900/cdn/vod-secure.twitch.tv/abc/chunked/0.ts\n");
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
