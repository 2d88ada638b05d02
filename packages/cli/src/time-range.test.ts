import { describe, expect, it } from "vitest";
import { downloadCommandLine } from "./download-hint.ts";
import { parseOffset, playlistSegments, segmentsInRange, trimOf } from "./time-range.ts";

const PLAYLIST = [
  "#EXTM3U",
  "#EXT-X-TARGETDURATION:10",
  ...[0, 1, 2, 3].flatMap((i) => ["#EXTINF:10.000,", `https://cdn.example/v/chunked/${i}.ts`]),
  "#EXTINF:4.500,",
  "https://cdn.example/v/chunked/4-muted.ts",
  "#EXT-X-ENDLIST",
].join("\n");

describe("download ranges", () => {
  it("times as H:MM:SS, MM:SS or seconds", () => {
    expect([parseOffset("1:02:00", "--from"), parseOffset("62:00", "--from"), parseOffset("3720.5", "--to")]).toEqual([
      3720, 3720, 3720.5,
    ]);
    expect(() => parseOffset("1:60", "--to")).toThrow(/go up to 59/);
    expect(() => parseOffset("-5", "--to")).toThrow(/--to "-5" is not a time into the VOD/);
  });

  it("picks the segments covering the range and cuts it out of them; dead ones shorten the cut", () => {
    const all = playlistSegments(PLAYLIST);
    expect(all.map((s) => [s.index, s.start, s.duration])).toEqual([
      [0, 0, 10],
      [1, 10, 10],
      [2, 20, 10],
      [3, 30, 10],
      [4, 40, 4.5],
    ]);
    const picked = segmentsInRange(all, 15, 42);
    expect(picked.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    expect(trimOf(picked, 15, 42)).toEqual({ from: 15, to: 42, trim: { skip: 5, length: 27 } });
    // 2.ts dead: 10 s fewer.
    expect(trimOf([picked[0]!, picked[2]!, picked[3]!], 15, 42)?.trim).toEqual({ skip: 5, length: 17 });
    expect(trimOf(all, undefined, undefined)).toBeUndefined();
    expect(() => segmentsInRange(all, undefined, 45)).toThrow(/--to 0:45 is past the VOD's end \(it lasts 0:44.5\)/);
  });

  it("the page's command line quotes what a shell would expand", () => {
    expect(downloadCommandLine("http://127.0.0.1:8080/m3u8/1/2/index.m3u8", "a_b 2025-01-06")).toBe(
      "npm run vods -- download http://127.0.0.1:8080/m3u8/1/2/index.m3u8 --out a_b_2025-01-06.mp4",
    );
    expect(downloadCommandLine("http://x/?a=1&b='2'", "v.mp4")).toBe(
      `npm run vods -- download 'http://x/?a=1&b='\\''2'\\''' --out v.mp4`,
    );
  });
});
