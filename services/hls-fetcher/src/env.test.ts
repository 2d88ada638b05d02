import { describe, expect, it } from "vitest";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { readEnv } from "./env.ts";

describe("hls-fetcher env", () => {
  it("defaults work against real Twitch: every live domain over https, 3 requests per second", () => {
    const env = readEnv({});
    expect(env.CDN_DOMAINS).toEqual(LIVE_VOD_DOMAINS);
    expect(env.CDN_URL_TEMPLATE).toBe("https://{domain}/");
    expect(env.RATE_PER_SECOND).toBe(3);
    expect(env.HEADERS_TIMEOUT).toBe(5_000);
  });

  it("points at the simulator through configuration alone", () => {
    const env = readEnv({
      CDN_DOMAINS: "a.example, b.example",
      CDN_URL_TEMPLATE: "http://127.0.0.1:8900/cdn/{domain}/",
      RATE_PER_SECOND: "1.5",
    });
    expect(env).toMatchObject({ CDN_DOMAINS: ["a.example", "b.example"], RATE_PER_SECOND: 1.5 });
  });

  it("asks real Twitch's GQL first by default, 2 POSTs per second of 10 streamers; switchable", () => {
    expect(readEnv({})).toMatchObject({
      GQL_LOOKUP: true,
      GQL_ENDPOINT: "https://gql.twitch.tv/gql",
      GQL_RATE: 2,
      GQL_TIMEOUT: 3_000,
    });
    expect(readEnv({ GQL_LOOKUP: "false", GQL_ENDPOINT: "http://127.0.0.1:8900/gql" })).toMatchObject({
      GQL_LOOKUP: false,
      GQL_ENDPOINT: "http://127.0.0.1:8900/gql",
    });
    expect(() => readEnv({ GQL_LOOKUP: "maybe" })).toThrow(/GQL_LOOKUP/);
    expect(() => readEnv({ GQL_RATE: "0" })).toThrow(/GQL_RATE/);
    expect(readEnv({})).toMatchObject({
      GQL_BATCH: 10,
      STOP_PROBABILITY: 0.03,
      RETRY_INITIAL: 120_000,
      RETRY_FOR: 86_400_000,
    });
  });

  it("learns only hosts that look like Twitch's CDN; a bad pattern stops the service", () => {
    const { CDN_DISCOVERABLE } = readEnv({});
    expect(["d1ndex63qxojbr.cloudfront.net", "vod-secure.twitch.tv"].every((h) => CDN_DISCOVERABLE.test(h))).toBe(true);
    expect(
      ["evil.example", "d1ndex63qxojbr.cloudfront.net.evil.example", "127.0.0.1"].some((h) => CDN_DISCOVERABLE.test(h)),
    ).toBe(false);
    expect(() => readEnv({ CDN_DISCOVERABLE: "(" })).toThrow(/CDN_DISCOVERABLE/);
  });

  it("never the dead domains (a list of its own), nor a name CloudFront does not give a distribution", () => {
    const { CDN_DISCOVERABLE, CDN_DEAD_DOMAINS, DOMAIN_LEARNED_TTL } = readEnv({});
    expect(CDN_DEAD_DOMAINS).toContain("d3aqoihi2n8ty8.cloudfront.net");
    for (const dead of CDN_DEAD_DOMAINS) expect(CDN_DISCOVERABLE.test(dead), dead).toBe(false);
    expect(["d1.cloudfront.net", "dabcdefghijklmnopqrst.cloudfront.net"].some((h) => CDN_DISCOVERABLE.test(h))).toBe(
      false,
    );
    expect(DOMAIN_LEARNED_TTL).toBe(14 * 86_400_000);
    const custom = readEnv({ CDN_DEAD_DOMAINS: "d1ndex63qxojbr.cloudfront.net" });
    expect(custom.CDN_DISCOVERABLE.test("d1ndex63qxojbr.cloudfront.net")).toBe(false);
    expect(custom.CDN_DISCOVERABLE.test("d3aqoihi2n8ty8.cloudfront.net")).toBe(true);
  });

  it("a budget of its own by default; with Redis one per egress, named by configuration", () => {
    const alone = readEnv({});
    expect(alone.REDIS_URL).toBeUndefined();
    expect(alone.CDN_EGRESS).toBe("default");
    expect(alone.RESULT_MAX_BYTES).toBe(768 * 1024);
    const shared = readEnv({ REDIS_URL: "redis://127.0.0.1:16379", CDN_EGRESS: "203.0.113.7" });
    expect(shared).toMatchObject({ REDIS_URL: "redis://127.0.0.1:16379", CDN_EGRESS: "203.0.113.7" });
    expect(() => readEnv({ REDIS_URL: "127.0.0.1:16379" })).toThrow(/REDIS_URL/);
    expect(() => readEnv({ CDN_EGRESS: "a b" })).toThrow(/CDN_EGRESS/);
    expect(() => readEnv({ RESULT_MAX_BYTES: "2000000" })).toThrow(/RESULT_MAX_BYTES/);
  });

  it("names each bad field", () => {
    expect(() =>
      readEnv({ CDN_URL_TEMPLATE: "http://127.0.0.1:8900/cdn/", RATE_PER_SECOND: "-1", CDN_DOMAINS: " , " }),
    ).toThrow(/CDN_DOMAINS[\s\S]*CDN_URL_TEMPLATE[\s\S]*RATE_PER_SECOND|CDN_URL_TEMPLATE/);
    try {
      readEnv({ CDN_URL_TEMPLATE: "http://127.0.0.1:8900/cdn/", RATE_PER_SECOND: "-1", CDN_DOMAINS: " , " });
    } catch (err) {
      expect((err as { problems: { field: string }[] }).problems.map((p) => p.field).sort()).toEqual([
        "CDN_DOMAINS",
        "CDN_URL_TEMPLATE",
        "RATE_PER_SECOND",
      ]);
    }
  });
});
