import { vodPath } from "@vod/twitch";
import { describe, expect, it } from "vitest";
import { query, simulatorPerTest } from "./testing.ts";

const sim = simulatorPerTest();

const TOP = `query { streams(first: 30) { edges { cursor node { id viewersCount createdAt broadcaster { id login } } } } }`;

describe("world", () => {
  it("is the same for the same seed, however the clock is stepped", async () => {
    const a = await sim({ seed: 7, streams: 300 });
    const b = await sim({ seed: 7, streams: 300 });
    expect(b.vods()).toEqual(a.vods());
    expect((await query(b, TOP)).data).toEqual((await query(a, TOP)).data);

    a.clock.advance(6 * 3_600_000);
    for (let i = 0; i < 36; i++) b.clock.advance(600_000);
    const truthA = a.vods();
    expect(b.vods()).toEqual(truthA);
    expect((await query(b, TOP)).data).toEqual((await query(a, TOP)).data);
    expect(truthA.filter((v) => !v.live).length).toBeGreaterThan(50); // streams ended
    expect(truthA.length).toBeGreaterThan(a.world.liveCount); // and new ones started
  });

  it("differs under another seed", async () => {
    const a = await sim({ seed: 1, streams: 100 });
    const b = await sim({ seed: 2, streams: 100 });
    expect(b.vods().map((v) => v.login)).not.toEqual(a.vods().map((v) => v.login));
  });

  it("keeps about the requested number of streams live, with heavy-tailed viewers", async () => {
    const s = await sim({ seed: 3, streams: 20_000 });
    const live = s.world.liveCount;
    expect(live).toBeGreaterThan(18_000);
    expect(live).toBeLessThan(22_000);
    const viewers = s.world.streamers
      .filter((x) => x.live)
      .map((x) => s.world.viewersOf(x))
      .sort((a, b) => a - b);
    const median = viewers[Math.floor(viewers.length / 2)] ?? -1;
    const top = viewers.at(-1) ?? -1;
    expect(median).toBeLessThanOrEqual(2);
    expect(top).toBeGreaterThan(1000 * Math.max(1, median));
    expect(viewers.filter((v) => v >= 10).length / viewers.length).toBeGreaterThan(0.05);
  });

  it("has paths with every timestamp quirk, restarts under the same stream id, and unsaved, deleted, hidden, sub-only VODs", async () => {
    const s = await sim({ seed: 5, streams: 2_000, rates: { restart: 0.3 } });
    s.clock.advance(12 * 3_600_000);
    const vods = s.vods();
    const variants = new Set(vods.map((v) => v.variant));
    expect(variants).toEqual(new Set(["start", "minus1", "seconds"]));
    for (const v of vods) {
      expect(v.path).toBe(vodPath(v.login, v.streamId, v.ts));
      const startSec = Date.parse(v.startTime) / 1000;
      expect(v.ts).toBe(v.variant === "start" ? startSec : v.variant === "minus1" ? startSec - 1 : startSec % 60);
    }
    const restarted = vods.filter((v) => v.variant === "seconds");
    for (const v of restarted.slice(0, 20)) {
      const sameId = vods.filter((x) => x.streamId === v.streamId);
      expect(sameId.length).toBeGreaterThanOrEqual(2);
      expect(new Set(sameId.map((x) => x.startTime)).size).toBe(sameId.length);
    }
    expect(vods.some((v) => !v.saved)).toBe(true);
    expect(vods.some((v) => v.deleted)).toBe(true);
    expect(vods.some((v) => v.hidden && v.saved && !v.public)).toBe(true);
    expect(vods.some((v) => v.subOnly && v.public)).toBe(true);
    expect(vods.some((v) => v.muted.length > 0)).toBe(true);
    // A streamer's VODs mostly stay on one domain.
    const byLogin = new Map<string, Set<string>>();
    for (const v of vods) byLogin.set(v.login, (byLogin.get(v.login) ?? new Set()).add(v.domain));
    const multi = [...byLogin.values()].filter((d) => d.size > 1).length;
    expect(multi / byLogin.size).toBeLessThan(0.2);
    expect(new Set(vods.map((v) => v.domain)).size).toBeGreaterThan(5);
  });

  it("starts an added streamer's past-due session without waiting for the clock to move", async () => {
    const s = await sim({ seed: 1, streams: 0 });
    s.addStreamer({ login: "late", viewers: 3, sessions: [{ start: "-10m", duration: "1h" }] });
    expect(s.vods({ login: "late" })).toEqual([expect.objectContaining({ live: true })]);
    expect(s.world.page(0, 30).items.map((i) => i.streamer.login)).toEqual(["late"]);
  });

  it("forgets VODs once the retention period after their end has passed", async () => {
    const s = await sim({
      seed: 1,
      streams: 0,
      retainMs: 3_600_000,
      streamers: [{ login: "shorty", viewers: 5, sessions: [{ start: "+0s", duration: "10m" }] }],
    });
    s.clock.advance(11 * 60_000);
    const [vod] = s.vods();
    expect(vod?.endedAt).not.toBeNull();
    s.clock.advance(3_600_000);
    expect(s.vods()).toEqual([]);
  });
});
