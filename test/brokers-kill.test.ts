// A three-broker cluster (its own, on ports 29092-29094) loses the broker that leads most of the
// busiest topic's partitions to kill -9 mid-flow, for long enough that a round of releases, fetches and
// writes happens on the two left; then it comes back and catches up. The whole pipeline runs as
// processes (live-poller, delay, hls-fetcher, writer) against the simulator on a clock 30 times faster
// than real time. With replication 3, min.insync.replicas 2 and every producer acks=all, nothing
// acknowledged is lost: every VOD that ended has exactly one row, was released once and never before
// its mute boundary, every service answers /healthz 200 throughout, and the writer's offset commits
// never pause for 30 s or more.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Admin, Kafka } from "kafkajs";
import { createCatalog, createFencedProducer, createKafka, createTopics, type VodFetchRequest } from "@vod/kafka";
import {
  cdnDomains,
  freePort,
  freshDatabase,
  readAll,
  sharedWorld,
  testLog,
  uniqueName,
  until,
  untilClock,
  vodKey,
  type SharedClock,
  type TestDatabase,
} from "@vod/testing";
import type { Simulator, VodTruth } from "@vod/twitch-sim";
import { inject } from "vitest";
import { releaseTime } from "../services/delay/src/index.ts";
import { kafkaHealth, type KafkaHealth } from "../packages/cli/src/doctor-kafka.ts";
import { startCluster, type TestCluster } from "./fixtures/cluster.ts";
import { DELAY_PERIODS, DELAY_TIMING as timing, MIN } from "./fixtures/delay-pipeline.ts";
import { spawnService, type ServiceName } from "./fixtures/services.ts";
import type { Child } from "@vod/testing";

const SPEED = 30;
const PORT = Number(process.env.VOD_CLUSTER_PORT ?? 29092);
const DOMAINS = cdnDomains(3);
const UNSAVED = new Set([2, 7]);
// Ten streams from 20 simulated minutes (the services, up in 20-30 s of real time, see them start),
// ending from 23.5 to 32.5: the first releases fall due at 32 minutes (the broker is killed once one is
// archived), the rest at 42 (while the broker is dead); one stream stays live, so snapshots flow all
// along.
const STREAMS_START_MIN = 20;
const streamers = [
  ...Array.from({ length: 10 }, (_, i) => ({
    login: `bk_${i}`,
    id: String(7100 + i * 7),
    viewers: 900 - i * 40,
    domain: DOMAINS[i % DOMAINS.length],
    sessions: [{ start: `+${STREAMS_START_MIN}m`, duration: `${210 + i * 60}s`, saved: !UNSAVED.has(i) }],
  })),
  { login: "bk_live", id: "7299", viewers: 300, domain: DOMAINS[0], sessions: [{ start: "+0s" }] },
];

const prefix = `${uniqueName("bk")}.`;
const catalog = createCatalog(prefix);
const topicNames = Object.values(catalog).map((t) => t.name);
const KINDS: ServiceName[] = ["live-poller", "delay", "hls-fetcher", "writer"];
const writerGroup = uniqueName("bk-writer");
let cluster: TestCluster | undefined;
let kafka: Kafka;
let admin: Admin;
let shared: SharedClock;
let sim: Simulator;
let db: TestDatabase;
const procs: { kind: ServiceName; port: number; p: Child }[] = [];
const timeline: string[] = [];
const minute = () => `${((shared.clock.now() - shared.originMs) / MIN).toFixed(1)}m`;
const note = (what: string) => timeline.push(`${minute()} ${what}`);
const logFile = join(tmpdir(), `${prefix}log`);

let victim = 0;
let duringKill: KafkaHealth | undefined;
let afterRestart: KafkaHealth | undefined;
const unhealthy: string[] = [];
const commitTimes: number[] = [];
let samplersStop = () => {};
let truth: VodTruth[] = [];
let ended: VodTruth[] = [];
let releases: { key: string; value: VodFetchRequest; at: number }[] = [];
type Row = { key: string; outcome: string | null; fetched_at: Date | null };
let table: Row[] = [];

async function rows(): Promise<Row[]> {
  const { rows: r } = await db.pool.query<Row & { stream_id: string; start_time: Date }>(
    "select stream_id::text, start_time, outcome, fetched_at from vods order by stream_id, start_time",
  );
  return r.map((x) => ({ ...x, key: vodKey({ streamId: x.stream_id, startTime: x.start_time }) }));
}

/** Polls every service's /healthz and the writer group's committed offsets every 500 ms. */
function startSamplers(): void {
  const sampler = createKafka({
    brokers: cluster!.brokers,
    clientId: "bk-sampler",
    log: testLog,
    requestTimeoutMs: 5_000,
  });
  const a = sampler.admin();
  let last = -1n;
  let on = true;
  const health = async () => {
    while (on) {
      await Promise.all(
        procs.map(async ({ kind, port, p }) => {
          if (p.exitCode() !== undefined) return void unhealthy.push(`${minute()} ${kind} exited ${p.exitCode()}`);
          const status = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) })
            .then(async (res) => (await res.body?.cancel(), res.status))
            .catch((err: unknown) => String(err));
          if (status !== 200) unhealthy.push(`${minute()} ${kind} /healthz ${status}`);
        }),
      );
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const commits = async () => {
    await a.connect();
    while (on) {
      try {
        const offsets = await a.fetchOffsets({
          groupId: writerGroup,
          topics: [catalog.streamSnapshots.name, catalog.vodFetchResults.name],
        });
        const sum = offsets
          .flatMap((t) => t.partitions)
          .reduce((n, p) => n + BigInt(Math.max(0, Number(p.offset))), 0n);
        if (sum > last) {
          last = sum;
          commitTimes.push(Date.now());
        }
      } catch {
        // the coordinator moving: the next poll asks the new one
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await a.disconnect();
  };
  const done = Promise.all([health(), commits()]);
  samplersStop = () => {
    on = false;
    commitTimes.push(Date.now());
    void done;
  };
}

async function topicsKnownTo(broker: string): Promise<boolean> {
  const one = createKafka({ brokers: [broker], clientId: "bk-ready", log: testLog }).admin();
  try {
    await one.connect();
    for (const t of Object.values(catalog)) await one.fetchTopicOffsets(t.name);
    return true;
  } catch {
    return false;
  } finally {
    await one.disconnect();
  }
}

/**
 * A new cluster creates its offsets and transaction topics (50 partitions, three replicas each) on first
 * use; that is done here, before the clock starts, so the services start in seconds.
 */
async function warmUp(): Promise<void> {
  const consumer = kafka.consumer({ groupId: uniqueName("bk-warm") });
  await consumer.connect();
  await consumer.subscribe({ topics: [catalog.sweeps.name] });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({ eachMessage: async () => {} });
  await joined;
  await consumer.disconnect();
  const producer = await createFencedProducer(kafka, testLog, uniqueName("bk-warm"));
  await producer.claim();
  await producer.disconnect();
}

beforeAll(async () => {
  cluster = await startCluster("brokers-kill-test", 3, PORT);
  kafka = createKafka({ brokers: cluster.brokers, clientId: "bk-test", log: testLog });
  admin = kafka.admin();
  await admin.connect();
  await createTopics(kafka, Object.values(catalog), testLog);
  // Each broker learns of new topics from the controller in its own time: ready once all three answer.
  await until(
    async () => (await Promise.all(cluster!.brokers.map((b) => topicsKnownTo(b)))).every(Boolean),
    30_000,
    "every broker knowing the topics",
  );
  await warmUp();
  const world = await sharedWorld(SPEED, {
    streams: 0,
    streamers,
    domains: DOMAINS,
    muteIntervalMs: timing.muteIntervalMs,
    rates: { minus1: 0, otherDomain: 0, neverSaved: 0, deleted: 0, hidden: 0, subOnly: 0, restart: 0 },
  });
  ({ shared, sim } = world);
  db = await freshDatabase();
  // BROKERS_LOG_LEVEL=info (or debug) keeps the services' own account of a failure in the log file.
  const level = process.env.BROKERS_LOG_LEVEL ?? "warn";
  const common = { KAFKA_BROKERS: cluster.brokers.join(","), TOPIC_PREFIX: prefix, LOG_LEVEL: level, ...shared.env };
  const env: Record<ServiceName, Record<string, string>> = {
    // A leader election takes 10-15 s of real time, 5-7 minutes on this clock: the poller's freshness
    // check (interval + SWEEP_TIMEOUT + 1m, on the clock) is given what a minute's sweeps get in real time.
    "live-poller": { ...common, GQL_ENDPOINT: sim.gqlUrl, SWEEP_INTERVAL: "1m", SWEEP_TIMEOUT: "10m", GQL_RATE: "50" },
    delay: { ...common, ...DELAY_PERIODS, SESSION_TIMEOUT: "6s", GROUP_ID: uniqueName("bk-delay") },
    "hls-fetcher": {
      ...common,
      GROUP_ID: uniqueName("bk-fetcher"),
      DATABASE_URL: db.url,
      REDIS_URL: inject("redisUrl"),
      CDN_EGRESS: uniqueName("bk-egress"),
      CDN_DOMAINS: DOMAINS.join(","),
      CDN_URL_TEMPLATE: sim.cdnUrlTemplate,
      GQL_ENDPOINT: sim.gqlUrl,
      GQL_RATE: "20",
      RATE_PER_SECOND: "20",
      STOP_PROBABILITY: "0",
      REQUEST_RETRIES: "1",
      RETRY_BACKOFF: "50ms",
    },
    writer: { ...common, GROUP_ID: writerGroup, DATABASE_URL: db.url, RETRY_INITIAL: "50ms", RETRY_MAX: "1s" },
  };
  for (const kind of KINDS) {
    const port = await freePort();
    procs.push({ kind, port, p: spawnService(kind, { ...env[kind], OPS_PORT: String(port) }, { capture: true }) });
  }
  const answers = (port: number) =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
  await until(async () => (await Promise.all(procs.map((s) => answers(s.port)))).every(Boolean), 60_000, "services up");
  startSamplers();
  note("services healthy");
  if (shared.clock.now() >= world.t0 + (STREAMS_START_MIN - 1) * MIN)
    throw new Error(`the services took until ${minute()} to start; the streams start at ${STREAMS_START_MIN}m`);

  await until(async () => (await rows()).some((r) => r.outcome !== null), 90_000, "a first VOD archived");
  // The broker leading most partitions of the busiest topic (a snapshot per live stream per sweep).
  const meta = await admin.fetchTopicMetadata({ topics: [catalog.streamSnapshots.name] });
  const leads = new Map<number, number>();
  for (const p of meta.topics[0]!.partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
  victim = [...leads.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  await cluster.node("kill", victim);
  note(`kill -9 of broker ${victim}, leader of ${leads.get(victim)} snapshot partitions`);
  // Dead for 25 s (12.5 simulated minutes): the releases due at 42 minutes go out on two brokers.
  const back = Date.now() + 25_000;
  // Brokers' metadata caches catch up one by one: the report kept is one that shows the loss (the broker
  // gone, partitions short of it).
  await until(
    async () => {
      const health = await kafkaHealth(kafka, topicNames);
      const gone = !health.brokers.some((b) => b.nodeId === victim);
      if (gone && health.underReplicated.length > 0) duringKill = health;
      return duringKill !== undefined;
    },
    30_000,
    "partitions under-replicated",
  );
  await new Promise((r) => setTimeout(r, Math.max(0, back - Date.now())));
  await cluster.node("start", victim);
  note(`broker ${victim} started again`);

  await untilClock(shared, world.t0 + 47 * MIN);
  truth = sim.vods();
  ended = truth.filter((v) => !v.live);
  const due = new Set(ended.map(vodKey));
  await until(
    async () => (await rows()).filter((r) => due.has(r.key) && r.outcome !== null).length >= due.size,
    60_000,
    "every ended VOD archived",
  ).catch((err: unknown) => note(String(err)));
  await until(
    async () => (await kafkaHealth(kafka, topicNames)).underReplicated.length === 0,
    60_000,
    "every partition in sync again",
  ).catch((err: unknown) => note(String(err)));
  afterRestart = await kafkaHealth(kafka, topicNames);
  // A duplicate release or a late second fetch would come after the rest.
  await new Promise((r) => setTimeout(r, 3_000));
  samplersStop();
  note(`judging; the longest pause in the writer's commits: ${(longestCommitGap() / 1000).toFixed(1)} s`);
  table = await rows();
  releases = (await readAll(kafka, catalog.vodFetchRequests.name, testLog)).map((r) => {
    const value = r.value as VodFetchRequest;
    return { key: vodKey(value), value, at: shared.at(r.timestamp) };
  });
  writeFileSync(
    logFile,
    [...timeline, ...unhealthy, ...procs.map(({ kind, p }) => `==== ${kind}\n${p.output.join("")}`)].join("\n"),
  );
}, 240_000);

afterAll(async () => {
  samplersStop();
  for (const { p } of procs) p.child.kill("SIGKILL");
  await Promise.all(procs.map(({ p }) => p.exited));
  await admin?.disconnect();
  await db?.drop();
  await sim?.close();
  await cluster?.down();
});

function longestCommitGap(): number {
  return Math.max(...commitTimes.slice(1).map((t, i) => t - commitTimes[i]!));
}

const story = () => [...timeline, ...unhealthy.slice(0, 20)].join("\n");
const logs = () => `logs: ${logFile}`;

describe("three brokers, the busiest leader killed -9 mid-flow", () => {
  it("saw the partitions lose a replica while the broker was dead, and every one back in sync after", () => {
    expect(victim).toBeGreaterThan(0);
    expect(duringKill!.brokers.map((b) => b.nodeId)).not.toContain(victim);
    expect(duringKill!.underReplicated.length).toBeGreaterThan(0);
    for (const p of duringKill!.underReplicated) expect(p.isr, `${p.topic}[${p.partition}]`).not.toContain(victim);
    // Two of three in sync: nothing refused a write.
    expect(duringKill!.blocked).toEqual([]);
    expect(afterRestart!.brokers).toHaveLength(3);
    expect(afterRestart!.underReplicated, story()).toEqual([]);
    expect(afterRestart!.replication).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it("lost no VOD and doubled none: one row each, found when it is on the CDN", () => {
    expect(ended.length).toBe(10);
    const byKey = new Map<string, Row[]>();
    for (const r of table) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const lost = ended.filter((v) => byKey.get(vodKey(v))?.[0]?.outcome == null).map((v) => v.login);
    const released = new Set(releases.map((r) => r.key));
    timeline.push(
      `released: ${ended
        .filter((v) => released.has(vodKey(v)))
        .map((v) => v.login)
        .join(" ")}`,
    );
    expect(lost, `${story()}\n${logs()}`).toEqual([]);
    for (const v of ended) {
      expect(byKey.get(vodKey(v)), v.login).toHaveLength(1);
      expect(byKey.get(vodKey(v))![0]!.outcome, v.login).toBe(v.saved ? "found" : "not_found");
    }
    expect(table.filter((r) => !truth.some((v) => vodKey(v) === r.key))).toEqual([]);
  });

  it("released each VOD once, none before its mute boundary", () => {
    const keys = releases.map((r) => r.key);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    expect(new Set(keys)).toEqual(new Set(ended.map(vodKey)));
    for (const { key, value, at } of releases) {
      const due = releaseTime(Date.parse(value.lastSeen), timing);
      expect(at, key).toBeGreaterThanOrEqual(due);
      expect(table.find((r) => r.key === key)?.fetched_at?.getTime() ?? Infinity, key).toBeGreaterThanOrEqual(due);
    }
  });

  it("kept every service healthy, and the writer committing with no gap of 30 s", () => {
    expect(unhealthy, `${story()}\n${logs()}`).toEqual([]);
    expect(commitTimes.length).toBeGreaterThan(10);
    expect(longestCommitGap(), story()).toBeLessThan(30_000);
  });
});
