import { describe, expect, it } from "vitest";
import { describeTime, InputError, parseStartTime, parseTarget } from "./input.ts";

const NOW = Date.parse("2026-11-28T20:00:00Z");
const at = (raw: string, tz?: string) => parseStartTime(raw, tz, NOW);

describe("parseTarget", () => {
  it("reads login and stream id from a TwitchTracker stream URL", () => {
    expect(parseTarget("https://twitchtracker.com/Malek_04/streams/318688040160")).toEqual({
      from: "twitchtracker",
      login: "malek_04",
      streamId: "318688040160",
    });
    expect(parseTarget("twitchtracker.com/lirik/streams/52800169245?foo=1")).toMatchObject({
      login: "lirik",
      streamId: "52800169245",
    });
  });

  it("reads a StreamsCharts stream URL", () => {
    expect(parseTarget("https://streamscharts.com/channels/pajlada/streams/43465171160")).toEqual({
      from: "streamscharts",
      login: "pajlada",
      streamId: "43465171160",
    });
  });

  it("reads a SullyGnome stream URL, with or without a time range in it", () => {
    expect(parseTarget("https://sullygnome.com/channel/gmhikaru/stream/47198535725")).toEqual({
      from: "sullygnome",
      login: "gmhikaru",
      streamId: "47198535725",
    });
    expect(parseTarget("https://sullygnome.com/channel/gmhikaru/30/stream/47198535725")).toMatchObject({
      login: "gmhikaru",
      streamId: "47198535725",
    });
  });

  it("reads a Twitch video URL as a video id (with the login when the URL has it)", () => {
    expect(parseTarget("https://www.twitch.tv/videos/2312345678")).toEqual({ from: "twitch", videoId: "2312345678" });
    expect(parseTarget("https://m.twitch.tv/lirik/video/2312345678")).toEqual({
      from: "twitch",
      videoId: "2312345678",
      login: "lirik",
    });
  });

  it("takes --login and --stream-id alone, and fills a Twitch video URL's stream id from them", () => {
    expect(parseTarget(undefined, { login: "Lirik", streamId: "52800169245" })).toEqual({
      from: "flags",
      login: "lirik",
      streamId: "52800169245",
    });
    expect(parseTarget("https://www.twitch.tv/videos/1", { login: "lirik", streamId: "5" })).toMatchObject({
      videoId: "1",
      login: "lirik",
      streamId: "5",
    });
  });

  it("refuses with what was understood and what is missing", () => {
    expect(() => parseTarget(undefined, { login: "lirik" })).toThrow("understood login lirik; missing: --stream-id");
    expect(() => parseTarget(undefined, { streamId: "5" })).toThrow("understood stream id 5; missing: --login");
    expect(() => parseTarget(undefined)).toThrow(/missing: a tracker or Twitch URL/);
    expect(() => parseTarget("https://twitchtracker.com/lirik")).toThrow(
      /twitchtracker\.com\/\{login\}\/streams\/\{streamId\}.*names no stream/,
    );
    expect(() => parseTarget("https://twitchtracker.com/lirik/streams/abc")).toThrow(/"abc" .* is not a stream id/);
    expect(() => parseTarget("https://example.com/lirik/streams/5")).toThrow(/"example\.com" is not TwitchTracker/);
    expect(() => parseTarget("https://www.twitch.tv/lirik")).toThrow(/names none/);
    expect(() => parseTarget("https://twitchtracker.com/lirik/streams/5", { streamId: "6" })).toThrow(
      "--stream-id 6 contradicts the URL, which names 5",
    );
    expect(() => parseTarget(undefined, { login: "not a login", streamId: "5" })).toThrow(InputError);
  });
});

describe("parseStartTime", () => {
  it("reads the forms trackers show, UTC by default; no seconds means the whole minute", () => {
    expect(at("2026-11-28 14:03")).toEqual({ ms: Date.parse("2026-11-28T14:03:00Z"), precision: "minute" });
    expect(at("28-11-2026 14:03")).toEqual({ ms: Date.parse("2026-11-28T14:03:00Z"), precision: "minute" });
    expect(at("28.11.2026 9:03")).toEqual({ ms: Date.parse("2026-11-28T09:03:00Z"), precision: "minute" });
    expect(at("2026-11-28 14:03:27")).toEqual({ ms: Date.parse("2026-11-28T14:03:27Z"), precision: "second" });
    expect(at("28-11-2026 14:03:27")).toEqual({ ms: Date.parse("2026-11-28T14:03:27Z"), precision: "second" });
  });

  it("reads ISO 8601 with or without an offset, with or without seconds", () => {
    expect(at("2026-11-28T14:03:27Z")).toEqual({ ms: Date.parse("2026-11-28T14:03:27Z"), precision: "second" });
    expect(at("2026-11-28T14:03:27.480Z")).toEqual({ ms: Date.parse("2026-11-28T14:03:27Z"), precision: "second" });
    expect(at("2026-11-28T15:03+01:00")).toEqual({ ms: Date.parse("2026-11-28T14:03:00Z"), precision: "minute" });
    expect(at("2026-11-28T14:03:27")).toEqual({ ms: Date.parse("2026-11-28T14:03:27Z"), precision: "second" });
    expect(at("2026-11-28T14:03")).toEqual({ ms: Date.parse("2026-11-28T14:03:00Z"), precision: "minute" });
  });

  it("reads a local time in the zone --tz names", () => {
    expect(at("2026-11-28 15:03", "Europe/Berlin")).toEqual({
      ms: Date.parse("2026-11-28T14:03:00Z"),
      precision: "minute",
    });
    expect(at("2026-07-01 16:03:05", "Europe/Berlin")).toEqual({
      ms: Date.parse("2026-07-01T14:03:05Z"),
      precision: "second",
    });
    expect(at("28-11-2026 09:03", "America/New_York")).toEqual({
      ms: Date.parse("2026-11-28T14:03:00Z"),
      precision: "minute",
    });
    expect(at("2026-11-28 16:03", "UTC+2")).toEqual({ ms: Date.parse("2026-11-28T14:03:00Z"), precision: "minute" });
  });

  it("refuses what it cannot read for sure", () => {
    expect(() => at("11/28/2026 14:03")).toThrow(/day and month order is ambiguous/);
    expect(() => at("yesterday")).toThrow(/not in a form understood/);
    expect(() => at("2026-13-40 14:03")).toThrow(/is not a date and time/);
    expect(() => at("2026-11-28 14:03", "Mars/Olympus")).toThrow(/--tz "Mars\/Olympus" is not a time zone/);
    expect(() => at("2026-11-28T14:03Z", "Europe/Berlin")).toThrow(/carries its own offset and --tz/);
    expect(() => at("2026-11-29 14:03")).toThrow(/in the future \(times are UTC unless --tz/);
    // Clocks jumped 02:00 → 03:00 on 2026-03-29 in Berlin, and went back 03:00 → 02:00 on 2026-10-25.
    expect(() => at("2026-03-29 02:30", "Europe/Berlin")).toThrow(/does not exist in Europe\/Berlin/);
    expect(() => at("2026-10-25 02:30", "Europe/Berlin")).toThrow(
      /happens twice in Europe\/Berlin.*2026-10-25T00:30:00Z or 2026-10-25T01:30:00Z/,
    );
  });

  it("describes what it understood", () => {
    expect(describeTime(at("2026-11-28 14:03"))).toBe("2026-11-28T14:03Z (the whole minute)");
    expect(describeTime(at("2026-11-28 14:03:27"))).toBe("2026-11-28T14:03:27Z");
  });
});
