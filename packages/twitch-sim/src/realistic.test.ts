import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { domainWeight, randomStreamer } from "./population.ts";
import { startSimulator, type Simulator } from "./server.ts";
import { get, gqlPost, query, simulatorPerTest } from "./testing.ts";
import { onCdnAt, type VodTruth } from "./truth.ts";
import {
  REALISTIC_CONFIGURED_DOMAINS,
  REALISTIC_DOMAINS,
  REALISTIC_RATES,
  UNCONFIGURED_DOMAIN,
} from "./world-options.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The delay releases a VOD at the first mute run 5 min after its last sighting, plus 10 min: about an hour after its end. */
const FETCH_AFTER_END = HOUR;
const THRESHOLD = 10;

const share = (xs: readonly VodTruth[], f: (v: VodTruth) => boolean): number => xs.filter(f).length / xs.length;
const ms = (iso: string | null): number => Date.parse(iso as string);

/**
 * One realistic world, measured over its second simulated day (the first lets new streamers build up): VODs
 * that started that day and have ended.
 */
describe("realistic world, measured over a simulated day", () => {
  let sim: Simulator;
  let day: VodTruth[];
  let reached: VodTruth[];
  let liveAtStart: number;
  let startPopulation: number;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, streams: 8_000, world: "realistic", retainMs: 30 * HOUR });
    liveAtStart = sim.world.liveCount;
    startPopulation = sim.world.streamers.length;
    sim.clock.advance(DAY);
    const from = sim.clock.now();
    sim.clock.advance(DAY + 2 * HOUR);
    day = sim.vods({ state: "ended" }).filter((v) => ms(v.startTime) >= from && ms(v.startTime) < from + DAY);
    reached = day.filter((v) => v.peakViewers >= THRESHOLD);
  }, 60_000);
  afterAll(() => sim.close());

  it("has enough VODs to measure", () => {
    expect(day.length).toBeGreaterThan(40_000);
    expect(reached.length).toBeGreaterThan(6_000);
  });

  it("keeps 22-25% of the VODs that reach 10 viewers off the CDN when the fetcher comes, mostly from archiving off", () => {
    const off = share(reached, (v) => !onCdnAt(v, ms(v.endedAt) + FETCH_AFTER_END));
    expect(off).toBeGreaterThanOrEqual(0.22);
    expect(off).toBeLessThanOrEqual(0.25);
    const archivingOff = share(reached, (v) => v.archivingOff);
    expect(archivingOff).toBeGreaterThan(0.19);
    expect(archivingOff).toBeLessThan(0.24);
    // Unsaved anyway, and deleted before the fetch, make up the rest.
    expect(reached.some((v) => !v.saved && !v.archivingOff)).toBe(true);
    expect(reached.some((v) => v.saved && !onCdnAt(v, ms(v.endedAt) + FETCH_AFTER_END))).toBe(true);
    // Among the streamers there at the start, a fifth have archiving off.
    const initial = sim.world.streamers.slice(0, startPopulation);
    const noSave = initial.filter((s) => !s.savesVods).length / initial.length;
    expect(noSave).toBeCloseTo(REALISTIC_RATES.noSaveStreamer, 1);
  });

  it("hides 2% and makes 10% sub-only", () => {
    expect(share(day, (v) => v.hidden)).toBeGreaterThan(0.01);
    expect(share(day, (v) => v.hidden)).toBeLessThan(0.03);
    expect(share(day, (v) => v.subOnly)).toBeGreaterThan(0.08);
    expect(share(day, (v) => v.subOnly)).toBeLessThan(0.12);
  });

  it("takes about 5% of VODs from streamers who did not exist the day before, with the live population about stable", () => {
    const fresh = share(reached, (v) => v.newStreamer);
    expect(fresh).toBeGreaterThan(0.035);
    expect(fresh).toBeLessThan(0.065);
    expect(share(day, (v) => v.newStreamer)).toBeGreaterThan(0.035);
    expect(share(day, (v) => v.newStreamer)).toBeLessThan(0.065);
    for (const v of day.filter((x) => x.newStreamer).slice(0, 50)) {
      expect(ms(v.startTime) - ms(v.streamerCreatedAt)).toBeLessThan(DAY);
      expect(ms(v.streamerCreatedAt)).toBeGreaterThan(ms(day[0]?.startTime ?? null) - 2 * DAY);
    }
    expect(sim.world.streamers.length).toBeGreaterThan(startPopulation * 1.07);
    const live = sim.world.liveCount;
    expect(live / liveAtStart).toBeGreaterThan(0.92);
    expect(live / liveAtStart).toBeLessThan(1.08);
  });

  it("scatters about 3% of VODs onto one other domain, picked by domain popularity rather than uniformly", () => {
    const scattered = day.filter((v) => v.scattered);
    expect(scattered.length / day.length).toBeGreaterThan(0.02);
    expect(scattered.length / day.length).toBeLessThan(0.04);
    const n = REALISTIC_DOMAINS.length;
    const observed = new Map<string, number>();
    const expected = new Map<string, number>();
    for (const v of scattered) {
      expect(v.domain).not.toBe(v.homeDomain);
      observed.set(v.domain, (observed.get(v.domain) ?? 0) + 1);
      const home = REALISTIC_DOMAINS.indexOf(v.homeDomain);
      REALISTIC_DOMAINS.forEach((d, i) => {
        if (i !== home) expected.set(d, (expected.get(d) ?? 0) + domainWeight(i, n) / (1 - domainWeight(home, n)));
      });
    }
    const total = scattered.length;
    // Total variation distance to the popularity weights is small, and far smaller than to a uniform pick.
    let toWeights = 0;
    let toUniform = 0;
    for (const d of REALISTIC_DOMAINS) {
      const o = (observed.get(d) ?? 0) / total;
      toWeights += Math.abs(o - (expected.get(d) ?? 0) / total) / 2;
      toUniform += Math.abs(o - 1 / n) / 2;
    }
    expect(toWeights).toBeLessThan(0.06);
    expect(toUniform).toBeGreaterThan(0.15);
    const first = REALISTIC_DOMAINS[0] as string;
    const last = REALISTIC_DOMAINS[n - 1] as string;
    expect(observed.get(first) ?? 0).toBeGreaterThan(3 * (observed.get(last) ?? 0));
  });

  it("moves some streamers to another domain for good: every later VOD that is not scattered lives there", () => {
    const movedHere = day.filter((v) => v.migratedHere);
    expect(movedHere.length / day.length).toBeGreaterThan(0.002);
    expect(movedHere.length / day.length).toBeLessThan(0.01);
    let checked = 0;
    for (const move of movedHere) {
      const later = sim.vods({ login: move.login }).filter((v) => ms(v.startTime) > ms(move.startTime));
      for (const v of later) {
        expect(v.migrated).toBe(true);
        if (v.migratedHere) break; // moved again
        expect(v.homeDomain).toBe(move.homeDomain);
        if (!v.scattered) expect(v.domain).toBe(move.homeDomain);
        checked++;
      }
      const earlier = sim.vods({ login: move.login }).filter((v) => ms(v.startTime) < ms(move.startTime));
      if (earlier.length > 0 && !earlier.some((v) => v.migratedHere))
        expect(earlier.at(-1)?.homeDomain).not.toBe(move.homeDomain);
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("lists a VOD a few minutes after its end, never while live, never when hidden", () => {
    const listable = day.filter((v) => v.saved && !v.hidden);
    const delays = listable.map((v) => ms(v.listedAt) - ms(v.endedAt)).sort((a, b) => a - b);
    expect(delays.length).toBe(listable.length);
    expect(delays[0]).toBeGreaterThanOrEqual(REALISTIC_RATES.listDelayMinMs);
    expect(delays.at(-1)).toBeLessThanOrEqual(REALISTIC_RATES.listDelayMaxMs);
    const median = delays[delays.length >> 1] as number;
    expect(median).toBeGreaterThan(2.5 * 60_000);
    expect(median).toBeLessThan(3.5 * 60_000);
    expect(day.filter((v) => v.hidden || !v.saved).every((v) => v.listedAt === null)).toBe(true);
    expect(sim.vods({ state: "live" }).every((v) => v.listedAt === null && !v.public)).toBe(true);
  });

  it("stores some streamers' VODs on a domain the services are not configured with", () => {
    expect(REALISTIC_DOMAINS).toContain(UNCONFIGURED_DOMAIN);
    expect(REALISTIC_CONFIGURED_DOMAINS).not.toContain(UNCONFIGURED_DOMAIN);
    expect(sim.world.options.configuredDomains).toEqual(REALISTIC_CONFIGURED_DOMAINS);
    const there = reached.filter((v) => v.domain === UNCONFIGURED_DOMAIN);
    expect(there.every((v) => v.unconfiguredDomain)).toBe(true);
    expect(reached.filter((v) => v.domain !== UNCONFIGURED_DOMAIN).some((v) => v.unconfiguredDomain)).toBe(false);
    expect(there.length / reached.length).toBeGreaterThan(0.015);
    expect(there.length / reached.length).toBeLessThan(0.08);
    expect(new Set(there.map((v) => v.login)).size).toBeGreaterThan(10);
  });

  it("restarts false starts under the same stream id: the first session stays under the tracking threshold", () => {
    const falseStarts = day.filter((v) => v.falseStart);
    expect(falseStarts.length / day.length).toBeGreaterThan(0.005);
    expect(falseStarts.length / day.length).toBeLessThan(0.02);
    const byStreamId = new Map<string, VodTruth[]>();
    for (const v of sim.vods()) byStreamId.set(v.streamId, [...(byStreamId.get(v.streamId) ?? []), v]);
    let followedUp = 0;
    for (const first of falseStarts) {
      expect(first.peakViewers).toBeLessThanOrEqual(REALISTIC_RATES.falseStartMaxViewers);
      expect(ms(first.endedAt) - ms(first.startTime)).toBeLessThanOrEqual(REALISTIC_RATES.falseStartMaxMs);
      const next = byStreamId.get(first.streamId)?.find((v) => v.videoId !== first.videoId);
      if (!next) continue; // the restart began after the measured window
      expect(next).toMatchObject({ login: first.login, variant: "seconds", falseStart: false });
      expect(ms(next.startTime) - ms(first.endedAt)).toBeLessThanOrEqual(REALISTIC_RATES.restartGapMaxMs);
      followedUp++;
    }
    expect(followedUp).toBeGreaterThan(falseStarts.length * 0.95);
    // Some of them matter: the restart reached the archiving threshold.
    const restartsThatReached = reached.filter(
      (v) => v.variant === "seconds" && byStreamId.get(v.streamId)?.some((f) => f.falseStart),
    );
    expect(restartsThatReached.length).toBeGreaterThan(5);
  });
});

describe("realistic world, small", () => {
  const sim = simulatorPerTest({ world: "realistic" });

  it("is the same for the same seed however the clock is stepped, new streamers included", async () => {
    const a = await sim({ seed: 3, streams: 600 });
    const b = await sim({ seed: 3, streams: 600 });
    a.clock.advance(30 * HOUR);
    const target = a.clock.now();
    for (let i = 0; b.clock.now() + 13 * 60_000 < target; i++)
      b.clock.advance(i % 2 === 0 ? 7 * 60_000 + 1 : 13 * 60_000 - 1);
    b.clock.set(target);
    const truth = a.vods();
    expect(b.vods()).toEqual(truth);
    expect(truth.some((v) => v.newStreamer)).toBe(true);
    expect(b.world.streamers.length).toBe(a.world.streamers.length);
  });

  it("keeps the default world free of realistic behaviour", async () => {
    const s = await simulatorPerTest()({ seed: 3, streams: 600 });
    s.clock.advance(30 * HOUR);
    const vods = s.vods();
    expect(s.world.options.kind).toBe("default");
    expect(vods.some((v) => v.newStreamer || v.falseStart || v.migrated)).toBe(false);
    expect(vods.filter((v) => v.public).every((v) => v.listedAt === v.startTime)).toBe(true);
  });

  it("lists a VOD in user.videos only after its listing delay, drops it when deleted, and never lists a hidden one", async () => {
    const s = await sim({
      seed: 1,
      streams: 0,
      streamers: [
        { login: "lister", viewers: 50, sessions: [{ start: "+0s", duration: "30m" }] },
        { login: "hider", viewers: 50, hidden: true, sessions: [{ start: "+0s", duration: "30m" }] },
      ],
    });
    const Q = `query V($login: String) { user(login: $login) { videos(first: 10, type: ARCHIVE, sort: TIME) { edges { node { id status seekPreviewsURL } } } } }`;
    type V = { user: { videos: { edges: { node: { id: string; status: string; seekPreviewsURL: string } }[] } } };
    const ids = async (login: string) =>
      ((await query<V>(s, Q, { login })).data?.user.videos.edges ?? []).map((e) => e.node.id);
    s.clock.advance(10 * 60_000);
    expect(await ids("lister")).toEqual([]); // live: not listed
    s.clock.advance(20 * 60_000);
    const [vod] = s.vods({ login: "lister" });
    expect(vod?.live).toBe(false);
    const listedAt = ms(vod?.listedAt ?? null);
    expect(listedAt - ms(vod?.endedAt ?? null)).toBeGreaterThanOrEqual(REALISTIC_RATES.listDelayMinMs);
    s.clock.set(listedAt - 1000);
    expect(await ids("lister")).toEqual([]);
    expect(s.vods({ login: "lister" })[0]?.public).toBe(false);
    s.clock.set(listedAt);
    expect(await ids("lister")).toEqual([vod?.videoId]);
    expect(s.vods({ login: "lister" })[0]?.public).toBe(true);
    s.clock.advance(HOUR);
    expect(await ids("hider")).toEqual([]);
    expect(s.vods({ login: "hider" })[0]).toMatchObject({ hidden: true, listedAt: null, public: false, onCdn: true });
    s.deleteVod(vod?.videoId as string);
    expect(await ids("lister")).toEqual([]);
    expect(s.vods({ login: "lister" })[0]).toMatchObject({ deleted: true, onCdn: true });
    s.clock.advance(s.world.options.playlistGraceMs);
    expect(s.vods({ login: "lister" })[0]?.onCdn).toBe(false);
  });

  it("serves a VOD on the unconfigured domain, which only seekPreviewsURL names", async () => {
    const s = await sim({
      seed: 1,
      streams: 0,
      streamers: [
        { login: "newhost", viewers: 50, domain: UNCONFIGURED_DOMAIN, sessions: [{ start: "-2h", duration: "30m" }] },
      ],
    });
    const [vod] = s.vods();
    expect(vod).toMatchObject({ domain: UNCONFIGURED_DOMAIN, unconfiguredDomain: true });
    const answer = await query<{ user: { videos: { edges: { node: { seekPreviewsURL: string } }[] } } }>(
      s,
      `{ user(login: "newhost") { videos(first: 1, type: ARCHIVE) { edges { node { seekPreviewsURL } } } } }`,
    );
    const url = answer.data?.user.videos.edges[0]?.node.seekPreviewsURL ?? "";
    expect(new URL(url).host).toBe(UNCONFIGURED_DOMAIN);
    expect(url).toContain(vod?.path.split("/")[0]);
    expect((await get(s.playlistUrl(vod as VodTruth))).status).toBe(200);
    expect((await get(`${s.cdnBaseUrl(REALISTIC_CONFIGURED_DOMAINS[0] as string)}${vod?.path}`)).status).toBe(403);
  });

  it("fails user.videos alone, or all of GQL, through faults", async () => {
    const s = await sim({
      seed: 1,
      streams: 0,
      streamers: [{ login: "flaky", viewers: 50, sessions: [{ start: "-2h", duration: "30m" }] }],
      faults: [{ kind: "errors", fields: ["videos"], message: "past broadcasts unavailable" }],
    });
    const Q = `{ user(login: "flaky") { login subscriptionProducts { hasSubonlyVideoArchive } videos(first: 5) { edges { node { id } } } } }`;
    const broken = await query<{ user: { login: string; videos: unknown; subscriptionProducts: unknown[] } }>(s, Q);
    expect(broken.data?.user.login).toBe("flaky");
    expect(broken.data?.user.videos).toBeNull();
    expect(broken.data?.user.subscriptionProducts).toHaveLength(3);
    expect(broken.errors).toEqual([
      expect.objectContaining({ message: "past broadcasts unavailable", path: ["user", "videos"] }),
    ]);
    s.faults.clear();
    // A batch of lookups, one streamer per operation: every other `user` fails, the rest answer.
    s.faults.add({ kind: "errors", fields: ["user"], every: 2, message: "user unavailable" });
    const batch = await gqlPost(
      s,
      [1, 2, 3, 4].map(() => ({ query: Q })),
    );
    const answers = batch.body as { data?: { user: unknown }; errors?: { path?: string[] }[] }[];
    expect(answers.map((a) => a.data?.user === null)).toEqual([false, true, false, true]);
    expect(answers[1]?.errors?.[0]?.path).toEqual(["user"]);
    s.faults.clear();
    s.faults.add({ kind: "down", target: "gql", for: "20m" });
    const down = await fetch(s.gqlUrl, {
      method: "POST",
      headers: { "Client-ID": "x", "content-type": "application/json" },
      body: JSON.stringify({ query: Q }),
    });
    expect(down.status).toBe(503);
    s.clock.advance(20 * 60_000);
    expect((await query<{ user: { videos: { edges: unknown[] } } }>(s, Q)).data?.user.videos.edges).toHaveLength(1);
  });

  it("renames a new streamer whose drawn login is taken, and keeps new streamers coming", async () => {
    const s = await sim({ seed: 4, streams: 300 });
    const next = s.world.streamers.length + 1; // the scripted streamer takes the index before it
    const taken = randomStreamer(next, s.world.options).login;
    s.addStreamer({ login: taken, viewers: 3 });
    s.clock.advance(DAY);
    s.world.sync();
    const renamed = s.world.streamers[next];
    expect(renamed?.login).toBe(`${taken.slice(0, 20)}_1`);
    expect(s.world.streamerByLogin(taken)?.idx).toBe(next - 1);
    expect(s.world.streamers.length - next).toBeGreaterThan(10);
  });

  it("answers only the VODs that ended in a window, in process and through /admin/vods", async () => {
    const s = await sim({ seed: 2, streams: 300 });
    s.clock.advance(6 * HOUR);
    const from = s.clock.now() - 2 * HOUR;
    const before = s.clock.now() - HOUR;
    const expected = s.vods({ state: "ended" }).filter((v) => ms(v.endedAt) >= from && ms(v.endedAt) < before);
    expect(expected.length).toBeGreaterThan(10);
    expect(s.vods({ endedFrom: from, endedBefore: before })).toEqual(expected);
    const res = await fetch(`${s.url}/admin/vods?endedFrom=${new Date(from).toISOString()}&endedBefore=${before}`);
    const body = (await res.json()) as { total: number; vods: VodTruth[] };
    expect(body.total).toBe(expected.length);
    expect(body.vods.map((v) => v.videoId)).toEqual(expected.map((v) => v.videoId));
  });

  it("shows a running false start with its few viewers in the streams listing", async () => {
    const s = await sim({ seed: 5, streams: 3_000 });
    let found: VodTruth | undefined;
    for (let i = 0; i < 48 && !found; i++) {
      s.clock.advance(5 * 60_000);
      found = s.vods({ state: "live" }).find((v) => v.falseStart);
    }
    expect(found).toBeDefined();
    const streamer = s.world.streamerByLogin(found?.login ?? "");
    expect(streamer).toBeDefined();
    expect(s.world.viewersOf(streamer as NonNullable<typeof streamer>)).toBeLessThanOrEqual(
      REALISTIC_RATES.falseStartMaxViewers,
    );
  });
});
