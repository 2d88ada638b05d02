import { describe, expect, it } from "vitest";
import { LIVE_STREAMS_QUERY, liveStreamsVariables, parseLiveStreamsPage, type LiveStream } from "@vod/twitch";
import { query, simulatorPerTest } from "./testing.ts";

const sim = simulatorPerTest();

describe("GQL text a client must bound (oversized faults)", () => {
  it("a 2.7 KB login drops only its stream and a 1.1 MB title is cut: the sweep still reads every page to the end", async () => {
    const s = await sim({
      seed: 5,
      streams: 80,
      streamers: [
        { login: "long_login", viewers: 5_000_000, sessions: [{ start: "-1h" }] },
        { login: "long_title", viewers: 4_000_000, sessions: [{ start: "-1h" }] },
      ],
      faults: [
        { kind: "oversized", field: "login", bytes: 2_700, logins: ["long_login"] },
        { kind: "oversized", field: "title", bytes: 1_100_000, logins: ["long_title"] },
        { kind: "oversized", field: "game", bytes: 3_000, logins: ["long_title"] },
      ],
    });
    const streams: LiveStream[] = [];
    const dropped: string[] = [];
    let edges = 0;
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const { data } = await query<unknown>(s, LIVE_STREAMS_QUERY, liveStreamsVariables(30, after));
      const parsed = parseLiveStreamsPage(data);
      if (!parsed.ok) throw new Error(parsed.reason);
      streams.push(...parsed.page.streams);
      dropped.push(...parsed.page.dropped);
      edges += parsed.page.cursors.length;
      if (!parsed.page.hasNextPage) break;
      after = parsed.page.cursors.at(-1) ?? null;
    }
    expect(edges).toBeGreaterThan(30);
    expect(edges).toBe(s.world.page(0, 1_000).items.length);
    expect(dropped).toEqual(["invalid stream: broadcaster.login: login over 25 characters"]);
    expect(streams).toHaveLength(edges - 1);
    const titled = streams.find((x) => x.login === "long_title")!;
    expect(titled.title!.length).toBe(1024);
    expect(titled.gameName).toHaveLength(256);
    expect(streams.every((x) => /^[a-z0-9_]{1,25}$/.test(x.login) && Buffer.byteLength(x.title ?? "") <= 1024)).toBe(
      true,
    );
  });
});
