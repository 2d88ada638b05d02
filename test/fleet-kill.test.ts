// The whole fleet through kill -9 and a rolling restart: one live-poller, two delays, two hls-fetchers
// and two writers (processes, each kind in one group) against the simulator on a clock 30 times
// faster than real time. Once the first VODs have been released and fetched, one instance of each
// kind is killed with -9 and started again; then every instance is replaced one at a time, the new
// one joining before the old one stops. Judged against the simulator's truth, the topic of fetch
// requests and the database: every VOD that ended has exactly one row, found when it is on the CDN;
// each was released once and none before its mute boundary; the CDN saw at most the configured rate
// across both fetchers (one budget in Redis).
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { AssignerProtocol, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCatalog, type VodFetchRequest } from "@vod/kafka";
import {
  cdnDomains,
  createTestTopics,
  freshDatabase,
  readAll,
  sharedWorld,
  spawnMain,
  testKafka,
  testLog,
  uniqueName,
  until,
  untilClock,
  vodKey,
  type Child,
  type SharedClock,
  type TestDatabase,
} from "@vod/testing";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import { releaseTime } from "../services/delay/src/index.ts";
import { DELAY_PERIODS, DELAY_TIMING as timing, MIN } from "./fixtures/delay-pipeline.ts";
import { mainOf } from "./fixtures/services.ts";
import { start as startPoller, readEnv as pollerEnv, type StartedPoller } from "../services/live-poller/src/index.ts";

const SPEED = 30;
const RATE = 4;
const DOMAINS = cdnDomains(4);
const periods = { ...DELAY_PERIODS, SESSION_TIMEOUT: "6s" };

// Sixteen streamers whose streams end from 3.5 to 27 simulated minutes, so releases fall due at 12,
// 22 and 32 minutes: before the kills, between the kills and the roll, and after it. Every third one
// never saves its VOD (a search of every candidate, 12 requests, keeps the budget busy); one VOD's path
// uses the start time minus a second, one streamer restarts under the same stream id, one VOD has muted
// segments, and one stream stays live.
const UNSAVED = new Set([2, 5, 8, 11, 14]);
const streamers = [
  ...Array.from({ length: 16 }, (_, i) => {
    const end = 210 + i * 95;
    return {
      login: `fk_${i}`,
      id: String(8100 + i * 7),
      viewers: 1000 - i * 40,
      domain: DOMAINS[i % DOMAINS.length],
      sessions:
        i === 6
          ? [
              { start: "+0s", duration: "4m" },
              { start: "+4m20s", duration: `${end - 260}s`, sameStreamId: true },
            ]
          : [
              {
                start: "+0s",
                duration: `${end}s`,
                saved: !UNSAVED.has(i),
                ...(i === 3 ? { variant: "minus1" as const } : {}),
                ...(i === 13 ? { muted: [[2, 6]] as [number, number][] } : {}),
              },
            ],
    };
  }),
  { login: "fk_live", id: "8299", viewers: 300, domain: DOMAINS[0], sessions: [{ start: "+0s" }] },
];

type Kind = "delay" | "hls-fetcher" | "writer";
const KINDS: Kind[] = ["delay", "hls-fetcher", "writer"];
interface Proc extends Child {
  name: string;
}

const kafka = testKafka("fleet-kill-test");
const prefix = `${uniqueName("fk")}.`;
const catalog = createCatalog(prefix);
const groups: Record<Kind, string> = {
  delay: uniqueName("fk-delay"),
  "hls-fetcher": uniqueName("fk-fetcher"),
  writer: uniqueName("fk-writer"),
};
let shared: SharedClock;
let sim: Simulator;
let db: TestDatabase;
let admin: Admin;
let poller: StartedPoller | undefined;
const procs: Proc[] = [];
const running: Record<Kind, Proc[]> = { delay: [], "hls-fetcher": [], writer: [] };
const events: string[] = [];
/** What happened when (simulated minutes from the start), for a failure's message. */
const timeline: string[] = [];
const minute = (at = shared.clock.now()) => `${((at - shared.originMs) / MIN).toFixed(1)}m`;
let serial = 0;
const logFile = join(tmpdir(), `${prefix}log`);

function start(kind: Kind, env: Record<string, string>): Proc {
  const name = `${kind}-${++serial}`;
  // FLEET_LOG_LEVEL=info (or debug) keeps the instances' own account of a failure in the log file.
  // The delays log at info at least: their assignments choose which one is killed.
  const level =
    kind === "delay" && !process.env.FLEET_LOG_LEVEL?.match(/^(info|debug|trace)$/)
      ? "info"
      : (process.env.FLEET_LOG_LEVEL ?? "warn");
  const p: Proc = { name, ...spawnMain(mainOf(kind), { LOG_LEVEL: level, ...env }, { capture: true }) };
  procs.push(p);
  running[kind].push(p);
  timeline.push(`${minute()} ${name} start`);
  return p;
}

async function stop(kind: Kind, p: Proc, signal: "SIGKILL" | "SIGTERM"): Promise<void> {
  p.child.kill(signal);
  const how = await p.exited;
  running[kind] = running[kind].filter((q) => q !== p);
  events.push(`${kind} ${signal}: ${how}`);
  timeline.push(`${minute()} ${p.name} ${signal}`);
}

/** The partitions a delay instance last logged as assigned to it (its "partitions assigned" lines, at info). */
function assignedPartitions(p: Proc): number[] {
  const lines = p.output
    .join("")
    .split("\n")
    .filter((l) => l.includes('"partitions assigned"') && l.endsWith("}"));
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as { partitions: number[] }).partitions : [];
}

/** The group's members, once it is stable with `n` of them each holding partitions (otherwise one works alone until the next rebalance). */
async function stableMembers(kind: Kind, n: number): Promise<string[] | null> {
  const {
    groups: [g],
  } = await admin.describeGroups([groups[kind]]);
  if (g?.state !== "Stable" || g.members.length !== n) return null;
  const assigned = g.members.every((m) =>
    Object.values(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}).some(
      (ps) => ps.length > 0,
    ),
  );
  return assigned ? g.members.map((m) => m.memberId).sort() : null;
}
/** Stable with `n` members, and not the members of `before` (a killed member is listed until its session expires). */
const settled =
  (kind: Kind, n: number, before: string[] = []) =>
  async () => {
    const now = await stableMembers(kind, n);
    return now !== null && now.join() !== before.join();
  };

type Row = {
  key: string;
  outcome: string | null;
  fetched_at: Date | null;
  muted_count: number | null;
  ts_variant: string | null;
};
async function rows(): Promise<Row[]> {
  const { rows: r } = await db.pool.query<Row & { stream_id: string; start_time: Date }>(
    "select stream_id::text, start_time, outcome, fetched_at, muted_count, ts_variant from vods order by stream_id, start_time",
  );
  return r.map((x) => ({ ...x, key: vodKey({ streamId: x.stream_id, startTime: x.start_time }) }));
}

let truth: VodTruth[] = [];
let ended: VodTruth[] = [];
let releases: { key: string; value: VodFetchRequest; at: number; partition: number; offset: string }[] = [];
let table: Row[] = [];
let cdn = { requests: 0, maxIn900ms: 0 };
let killedAt = { released: 0, fetched: 0 };
let logs = "";
let sampler: NodeJS.Timeout | undefined;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

beforeAll(async () => {
  const world = await sharedWorld(SPEED, {
    streams: 0,
    streamers,
    domains: DOMAINS,
    muteIntervalMs: timing.muteIntervalMs,
    rates: { minus1: 0, otherDomain: 0, neverSaved: 0, deleted: 0, hidden: 0, subOnly: 0, restart: 0 },
  });
  ({ shared, sim } = world);
  const { t0 } = world;
  db = await freshDatabase();
  admin = kafka.admin();
  await admin.connect();
  await createTestTopics(kafka, Object.values(catalog));

  const common = {
    KAFKA_BROKERS: inject("kafkaBrokers").join(","),
    TOPIC_PREFIX: prefix,
    OPS_PORT: "0",
    ...shared.env,
  };
  const env: Record<Kind, Record<string, string>> = {
    delay: { ...common, ...periods, GROUP_ID: groups.delay },
    "hls-fetcher": {
      ...common,
      GROUP_ID: groups["hls-fetcher"],
      DATABASE_URL: db.url,
      REDIS_URL: inject("redisUrl"),
      CDN_EGRESS: uniqueName("fk-egress"),
      CDN_DOMAINS: DOMAINS.join(","),
      CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
      GQL_ENDPOINT: sim.gqlUrl,
      GQL_RATE: "20",
      RATE_PER_SECOND: String(RATE),
      // Every candidate of an unsaved VOD is asked (12 requests), so both fetchers queue more than the budget lets through.
      STOP_PROBABILITY: "0",
      REQUEST_RETRIES: "1",
      RETRY_BACKOFF: "50ms",
    },
    writer: { ...common, GROUP_ID: groups.writer, DATABASE_URL: db.url, RETRY_INITIAL: "50ms", RETRY_MAX: "1s" },
  };
  for (const kind of KINDS) for (let i = 0; i < 2; i++) start(kind, env[kind]);
  // When the busiest 900 ms grew, for a failure's message.
  let busiest = 0;
  sampler = setInterval(() => {
    const now = sim.stats().cdn.maxIn900ms;
    if (now > busiest)
      timeline.push(`${minute()} busiest 900 ms: ${(busiest = now)} (loop delay max ${Math.round(loop.max / 1e6)} ms)`);
    loop.reset();
  }, 100);
  poller = await startPoller(
    pollerEnv({ ...common, LOG_LEVEL: "silent", GQL_ENDPOINT: sim.gqlUrl, SWEEP_INTERVAL: "1m", GQL_RATE: "50" }),
    testLog,
    shared.clock,
  );

  try {
    await Promise.all(KINDS.map((k) => until(settled(k, 2), 90_000, `two ${k} instances sharing the partitions`)));
    // The first releases (due at 12 min) went out and some are archived; later ones are still pending.
    await until(async () => (await rows()).some((r) => r.outcome !== null), 90_000, "a first VOD archived");
    timeline.push(`${minute()} first VOD archived`);
    const requests = await readAll(kafka, catalog.vodFetchRequests.name, testLog);
    killedAt = { released: requests.length, fetched: (await rows()).filter((r) => r.outcome !== null).length };
    // The delay killed is the one holding the restarting streamer: its first VOD was just released, its
    // second is live, and the stream id is the same.
    const restarting = requests.find((r) => (r.value as VodFetchRequest).login === "fk_6")?.partition;
    const victim = running.delay.find((p) => assignedPartitions(p).includes(restarting ?? -1));
    // Every delay logs its assignments at info; none naming the partition is a broken run, not a pass.
    if (!victim) throw new Error(`no delay instance logged partition ${restarting} (fk_6's) as assigned`);
    timeline.push(`${minute()} fk_6 in partition ${restarting}, held by ${victim.name}`);
    // kill -9 of one instance of each kind, and each started again.
    const before = Object.fromEntries(
      await Promise.all(
        KINDS.map(async (k) => {
          const members = await stableMembers(k, 2);
          if (!members) throw new Error(`the ${k} group is not stable with two members before the kill`);
          return [k, members] as const;
        }),
      ),
    ) as Record<Kind, string[]>;
    await Promise.all(KINDS.map((k) => stop(k, k === "delay" ? victim : running[k][0]!, "SIGKILL")));
    for (const kind of KINDS) start(kind, env[kind]);
    // The dead members leave when their sessions expire (the fetcher's and writer's: 30 s).
    await Promise.all(KINDS.map((k) => until(settled(k, 2, before[k]), 90_000, `two ${k} instances after the kill`)));
    timeline.push(`${minute()} settled after the kill`);
    // Rolling restart of every instance, the kinds side by side: each replacement joins before its predecessor stops.
    await Promise.all(
      KINDS.map(async (kind) => {
        for (const old of [...running[kind]]) {
          start(kind, env[kind]);
          await until(settled(kind, 3), 90_000, `three ${kind} instances during the roll`);
          const three = (await stableMembers(kind, 3)) ?? [];
          await stop(kind, old, "SIGTERM");
          await until(settled(kind, 2, three), 90_000, `two ${kind} instances after a stop`);
        }
      }),
    );
    timeline.push(`${minute()} roll done`);
    // The last streams end by 27 min: ended by absence by about 31, due at 32.
    await untilClock(shared, t0 + 33 * MIN);
    timeline.push(`${minute()} judging`);
    truth = sim.vods();
    ended = truth.filter((v) => !v.live);
    const due = new Set(ended.map(vodKey));
    await until(
      async () => (await rows()).filter((r) => due.has(r.key) && r.outcome !== null).length >= due.size,
      60_000,
      "every ended VOD archived",
    ).catch((err: unknown) => events.push(String(err)));
    // A duplicate release or a late second fetch would come after the rest.
    await new Promise((r) => setTimeout(r, 3_000));
  } finally {
    clearInterval(sampler);
    await poller.close();
    cdn = sim.stats().cdn;
    table = await rows();
    releases = (await readAll(kafka, catalog.vodFetchRequests.name, testLog)).map((r) => {
      const value = r.value as VodFetchRequest;
      return { key: vodKey(value), value, at: shared.at(r.timestamp), partition: r.partition, offset: r.offset };
    });
    const detail = releases.map(
      (r) =>
        `${r.key} p${r.partition}@${r.offset} at ${minute(r.at)} lastSeen ${r.value.lastSeen} releaseAt ${r.value.releaseAt}` +
        `${r.value.restart ? " restart" : ""}${r.value.liveResults ? ` live×${r.value.liveResults}` : ""}`,
    );
    const summary = { cdn, killedAt, releases: detail, rows: table.length, events, timeline };
    logs = [JSON.stringify(summary), ...procs.map((p) => `==== ${p.name}\n${p.output.join("")}`)].join("\n");
    writeFileSync(logFile, logs);
  }
}, 300_000);

afterAll(async () => {
  await poller?.close();
  for (const p of procs) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await admin?.disconnect();
  await db?.drop();
  await sim?.close();
});

describe("the fleet through kill -9 and a rolling restart", () => {
  it("killed one instance of each kind mid-run, then replaced every instance with overlap", () => {
    expect(killedAt.released).toBeGreaterThan(0);
    expect(killedAt.fetched).toBeGreaterThan(0);
    // Pending at the kill: VODs due at 22 and 32 minutes were not yet released.
    expect(killedAt.released).toBeLessThan(ended.length);
    expect(
      events.filter((e) => e.endsWith("SIGKILL: SIGKILL")),
      timeline.join("\n"),
    ).toHaveLength(3);
    // Every kind: two of its instances stopped cleanly (exit 0) in the roll.
    for (const kind of KINDS)
      expect(
        events.filter((e) => e === `${kind} SIGTERM: 0`),
        events.join("\n"),
      ).toHaveLength(2);
  });

  it("archived every VOD that ended exactly once: one row each, found when it is on the CDN", () => {
    expect(ended.length).toBe(17);
    const byKey = new Map<string, Row[]>();
    for (const r of table) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const lost = ended.filter((v) => byKey.get(vodKey(v))?.[0]?.outcome == null).map((v) => `${v.login} ${vodKey(v)}`);
    expect(lost, `logs: ${logFile}`).toEqual([]);
    for (const v of ended) {
      const got = byKey.get(vodKey(v))!;
      expect(got, vodKey(v)).toHaveLength(1);
      expect(got[0]!.outcome, `${v.login} ${vodKey(v)}`).toBe(v.saved && !v.deleted ? "found" : "not_found");
      if (v.saved) expect(got[0]!.ts_variant, v.login).toBe(v.variant);
    }
    // Nothing the simulator did not stream; the one still live may have its row from the snapshots.
    expect(table.filter((r) => !truth.some((v) => vodKey(v) === r.key))).toEqual([]);
  });

  it("released each VOD once, and none before its mute boundary", () => {
    const keys = releases.map((r) => r.key);
    const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
    expect(twice, `logs: ${logFile}`).toEqual([]);
    expect(new Set(keys)).toEqual(new Set(ended.map(vodKey)));
    for (const { key, value, at } of releases) {
      const computed = releaseTime(Date.parse(value.lastSeen), timing);
      expect(at, key).toBeGreaterThanOrEqual(computed);
      expect(Date.parse(value.releaseAt), key).toBeGreaterThanOrEqual(computed);
      // The fetch came after the release too, and saw the mute run.
      const row = table.find((r) => r.key === key);
      expect(row?.fetched_at?.getTime() ?? Infinity, key).toBeGreaterThanOrEqual(computed);
    }
    const muted = ended.find((v) => v.login === "fk_13")!;
    expect(table.find((r) => r.key === vodKey(muted))?.muted_count).toBe(4);
  });

  it("kept the CDN within the one budget across both fetchers", () => {
    // Enough requests that a budget per process would have shown (each unsaved VOD costs 12).
    expect(cdn.requests).toBeGreaterThanOrEqual(UNSAVED.size * 12);
    expect(cdn.maxIn900ms, timeline.join("\n")).toBeLessThanOrEqual(RATE);
  });
});
