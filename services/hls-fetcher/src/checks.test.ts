import { describe, expect, it } from "vitest";
import type { VodCheckRequest } from "@vod/kafka";
import { checkVod, segmentDomain, type CheckDeps } from "./checks.ts";

const TEMPLATE = "https://{domain}/";
const mayUse = (d: string) => d === "d1m7jfoe9zdc1j.cloudfront.net" || /^vod-[a-z-]+\.twitch\.tv$/.test(d);
const seg = (n: number, host = "d1m7jfoe9zdc1j.cloudfront.net") => `https://${host}/abc_login_1_2/chunked/${n}.ts`;

const request = (segments: string[]): VodCheckRequest => ({
  v: 1,
  streamId: "1",
  startTime: "2025-01-06T11:01:02.000Z",
  streamerId: "42",
  segments,
  requestedAt: "2025-01-06T15:00:00.000Z",
});

function deps(answers: Record<string, "there" | "gone" | { error: string }>): CheckDeps & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    urlTemplate: TEMPLATE,
    mayUse,
    now: () => new Date("2025-01-06T15:00:01.000Z"),
    http: {
      probe: async (url) => {
        asked.push(url);
        return answers[url] ?? "gone";
      },
    },
  };
}

describe("segment checks", () => {
  it("requests only segments on a CDN domain the fetcher may use, under its URL template", () => {
    expect(segmentDomain(seg(0), TEMPLATE, mayUse)).toBe("d1m7jfoe9zdc1j.cloudfront.net");
    expect(segmentDomain(seg(0, "vod-secure.twitch.tv"), TEMPLATE, mayUse)).toBe("vod-secure.twitch.tv");
    for (const hostile of [
      "http://169.254.169.254/latest/0.ts",
      "https://elsewhere.example/x/0.ts",
      "file:///etc/passwd",
      "https://d1m7jfoe9zdc1j.cloudfront.net.evil.example/x/0.ts",
      "https://user@d1m7jfoe9zdc1j.cloudfront.net/x/0.ts",
    ])
      expect(segmentDomain(hostile, TEMPLATE, mayUse), hostile).toBeNull();
  });

  it("answers playable, partial or gone from one request a segment", async () => {
    const all = deps({ [seg(0)]: "there", [seg(5)]: "there", [seg(9)]: "there" });
    expect((await checkVod(request([seg(0), seg(5), seg(9)]), all, new AbortController().signal))?.state).toBe(
      "playable",
    );
    expect(all.asked).toHaveLength(3);
    const some = deps({ [seg(0)]: "there" });
    const partial = await checkVod(request([seg(0), seg(5), seg(9)]), some, new AbortController().signal);
    expect(partial).toMatchObject({ state: "partial", checked: 3, checkedAt: "2025-01-06T15:00:01.000Z" });
    expect(partial?.dead.map((d) => d.uri)).toEqual([seg(5), seg(9)]);
    expect((await checkVod(request([seg(0)]), deps({}), new AbortController().signal))?.state).toBe("gone");
  });

  it("says nothing when a segment answered nothing definite, or none may be requested", async () => {
    const flaky = deps({ [seg(0)]: "there", [seg(5)]: { error: "HTTP 503" } });
    expect(await checkVod(request([seg(0), seg(5)]), flaky, new AbortController().signal)).toBeNull();
    const hostile = deps({});
    expect(await checkVod(request(["http://169.254.169.254/0.ts"]), hostile, new AbortController().signal)).toBeNull();
    expect(hostile.asked).toEqual([]);
  });
});
