import { describe, expect, it } from "vitest";
import { parseVodPath, timestampCandidates, vodHash, vodPath } from "./vod-path.ts";

const VECTORS: [string, string, number, string][] = [
  ["gmhikaru", "47198535725", 1664038929, "c5992ececce7bd7d350d"],
  ["lirik", "52800169245", 1735405554, "8bc45f9ebd1d857c8d90"],
  ["pajlada", "43465171160", 1735466631, "899085d30a9339109158"],
  ["kuzma671", "318688040160", 1778857092, "e8f4a8b5b2c874439c8c"],
];

describe("vodPath", () => {
  it.each(VECTORS)("%s_%s_%d hashes to %s", (login, streamId, ts, hash) => {
    expect(vodHash(login, streamId, ts)).toBe(hash);
    expect(vodPath(login, streamId, ts)).toBe(`${hash}_${login}_${streamId}_${ts}/chunked/index-dvr.m3u8`);
  });

  it("accepts a numeric stream id and another rendition", () => {
    expect(vodPath("lirik", 52800169245, 1735405554, "720p60")).toBe(
      "8bc45f9ebd1d857c8d90_lirik_52800169245_1735405554/720p60/index-dvr.m3u8",
    );
  });
});

describe("parseVodPath", () => {
  it.each(VECTORS)("round-trips %s", (login, streamId, ts, hash) => {
    expect(parseVodPath(vodPath(login, streamId, ts))).toEqual({
      hash,
      login,
      streamId,
      ts,
      quality: "chunked",
      file: "index-dvr.m3u8",
    });
  });

  it("parses logins with underscores from the ends", () => {
    const path = `/${vodPath("malek_04", "123456", 1700000000)}`;
    const parsed = parseVodPath(path);
    expect(parsed?.login).toBe("malek_04");
    expect(parsed?.streamId).toBe("123456");
    expect(parsed?.ts).toBe(1700000000);
    expect(parseVodPath("0123456789abcdef0123_a__b_9_8")?.login).toBe("a__b");
  });

  it("parses a bare key and segment paths", () => {
    expect(parseVodPath("c5992ececce7bd7d350d_gmhikaru_47198535725_1664038929")).toMatchObject({
      login: "gmhikaru",
      quality: undefined,
      file: undefined,
    });
    expect(parseVodPath("c5992ececce7bd7d350d_gmhikaru_47198535725_1664038929/chunked/12-muted.ts")?.file).toBe(
      "12-muted.ts",
    );
  });

  it.each([
    "",
    "index-dvr.m3u8",
    "c5992ececce7bd7d350d_gmhikaru_47198535725", // no ts
    "c5992ececce7bd7d350_gmhikaru_47198535725_1664038929/chunked/index-dvr.m3u8", // short hash
    "C5992ECECCE7BD7D350D_gmhikaru_47198535725_1664038929/chunked/index-dvr.m3u8", // upper-case hash
    "c5992ececce7bd7d350d_gmhikaru_4719853572x_1664038929/chunked/index-dvr.m3u8",
    "c5992ececce7bd7d350d_gmhikaru_47198535725_1664038929/chunked",
    "c5992ececce7bd7d350d_gmhikaru_47198535725_1664038929/chunked/x/index-dvr.m3u8",
    "c5992ececce7bd7d350d__47198535725_1664038929/chunked/index-dvr.m3u8", // empty login
  ])("rejects %j", (path) => expect(parseVodPath(path)).toBeNull());
});

describe("timestampCandidates", () => {
  it("gives the start, one second less, and the seconds field", () => {
    const start = new Date("2024-12-28T17:05:54.000Z");
    expect(timestampCandidates(start)).toEqual([
      { variant: "start", ts: 1735405554 },
      { variant: "minus1", ts: 1735405553 },
      { variant: "seconds", ts: 54 },
    ]);
  });

  it("drops milliseconds", () => {
    expect(timestampCandidates(new Date(1664038929_999))[0]).toEqual({ variant: "start", ts: 1664038929 });
  });
});
