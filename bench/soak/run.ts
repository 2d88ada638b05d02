/**
 * A day of Twitch, end to end: Kafka, PostgreSQL, the simulator's realistic world and every
 * service, each budget scaled with the world, faults on a schedule, judged against the
 * simulator's truth. `bench/soak.ts` is the command; `test/soak.test.ts` runs a short one.
 */
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import type { Admin } from "kafkajs";
import pg from "pg";
import { waitForHttp } from "@vod/cli";
import { createDb, createPool, runMigrations } from "@vod/db";
import { createCatalog, createKafka, createTopics, parseValue, readRange, vodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { VodTruth } from "@vod/twitch-sim";
import {
  BROKER_FAULTS,
  isBrokerFault,
  playBrokerFault,
  type BrokerCluster,
  type BrokerFaultKind,
} from "./broker-faults.ts";
import { Cluster, type ProcessSpec } from "./cluster.ts";
import { learnHours } from "./learn.ts";
import {
  drainTimes,
  judge,
  type Drain,
  percentile,
  type ArchivedRow,
  type Judgement,
  type LagSample,
  type Release,
  type Window,
} from "./measure.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Twitch's budgets at full scale: CDN requests and poller POSTs a second, the fetcher's GQL lookups. */
const CDN_RATE = 3;
const POLLER_GQL_RATE = 3;
const FETCHER_GQL_RATE = 2;
const TWITCH_LIVE_STREAMS = 100_000;
const MUTE_MARGIN_MS = 10 * MIN;
const MIN_VIEWERS = 10;

export interface SoakOptions {
  root: string;
  log: Logger;
  scale: number;
  hours: number;
  /**
   * Simulated hours run first, unmeasured and without faults, with the fetchers' CDN budget
   * multiplied by `warmupBudget`: they learn where streamers' VODs live, as a deployment does in
   * its first days. At t0 they restart on the scaled budget.
   */
  warmupHours: number;
  warmupBudget: number;
  /**
   * Simulated hours before the warm-up whose VODs the fetcher's code fetches in fast-forward, on no
   * budget, so the run starts with the knowledge a deployment has after that long (`learn.ts`).
   */
  learnHours: number;
  speed: number;
  instances: number;
  seed: number;
  simPort: number;
  /** The CDN meter's port (`cdn-meter.ts`), between the fetchers and the simulator's CDN. */
  meterPort: number;
  brokers: string;
  /** Fetchers share one CDN budget through it (two fetchers without it are refused). */
  redisUrl: string;
  /** A database URL whose user may create databases (a fresh `vod_soak_*` is made per run). */
  adminDatabaseUrl: string;
  /** Broker and PostgreSQL restarts (they stop the shared infra: off where other tests use it). */
  infraFaults: boolean;
  /** A Kafka cluster of the soak's own (`--brokers 3`): its broker faults replace the shared broker's restart. */
  brokerCluster?: BrokerCluster;
  /** No faults at all: the baseline the faulted runs are compared with. */
  faults?: boolean;
  progress: (line: string) => void;
  env: Record<string, string | undefined>;
}

export interface HourRow {
  hour: number;
  ended: number;
  archived: number;
  backlogMax: number;
  latencyP50Min: number;
  latencyP99Min: number;
}

export interface SoakResult extends Judgement {
  scale: number;
  simHours: number;
  learnHours: number;
  warmupHours: number;
  instances: number;
  /** Simulated time the run started (ms). */
  startedAt: number;
  requestsPerVod: number;
  busiestSecond: number;
  /** CDN requests a second, on average over the measured window, and in the busiest simulated hour. */
  requestsPerSecond: number;
  /** The busiest 900 ms, counted like the busiest second by the CDN meter on the fetchers' way to the CDN. */
  busiestIn900ms: number;
  /**
   * The busiest second as the simulator counted it, and its longest event-loop stall: arrivals during a
   * stall are counted together when it ends. The meter's own longest stall, for comparison.
   */
  busiestSecondAtSimulator: number;
  simStallMaxMs: number;
  meterStallMaxMs: number;
  limitPerSecond: number;
  gqlPostsPerMinute: number;
  /** Most messages waiting per consumer group, and the simulated minutes each backlog took to drain after a fault. */
  maxLag: Record<string, number>;
  maxDrainMin: number;
  drains: Drain[];
  /** Kafka nodes the soak ran on, and the longest drain after a broker fault (kill, roll, wipe). */
  brokers: number;
  maxBrokerFaultDrainMin: number;
  rssMbMax: number;
  rssMb: Record<string, number>;
  restarts: Record<string, number>;
  realMinutes: number;
  faults: (Window & { kind: string })[];
  hours: HourRow[];
}

interface Fault {
  name: string;
  kind: "sim" | "kafka-restart" | "postgres-restart" | "kill9" | BrokerFaultKind;
  /** Offset from the start, simulated ms. */
  at: number;
  forMs: number;
  sim?: Record<string, unknown>;
}

/**
 * Faults spread over the run after a first hour of warm-up, in the order the issue lists them;
 * each once per simulated day (a longer run repeats the schedule).
 */
export function faultSchedule(hours: number, infraFaults: boolean, domains: readonly string[], brokers = 1): Fault[] {
  const kinds: Omit<Fault, "at">[] = [
    {
      name: "CDN down but one domain, 20 min",
      kind: "sim",
      forMs: 20 * MIN,
      sim: { kind: "down", target: "cdn", except: [domains[0]] },
    },
    { name: "GraphQL down, 30 min", kind: "sim", forMs: 30 * MIN, sim: { kind: "down", target: "gql" } },
    { name: "GraphQL empty pages, 10 min", kind: "sim", forMs: 10 * MIN, sim: { kind: "empty", fields: ["streams"] } },
    ...(brokers >= 3 ? BROKER_FAULTS : []),
    ...(infraFaults
      ? [
          ...(brokers > 1 ? [] : [{ name: "Kafka broker restart", kind: "kafka-restart" as const, forMs: 0 }]),
          { name: "PostgreSQL restart", kind: "postgres-restart" as const, forMs: 0 },
        ]
      : []),
    { name: "kill -9 of one instance of each service", kind: "kill9", forMs: 0 },
    {
      name: "blackholed domain, 30 min",
      kind: "sim",
      forMs: 30 * MIN,
      sim: { kind: "blackhole", target: "cdn", domains: [domains[1]] },
    },
  ];
  const days = Math.max(1, Math.floor(hours / 24));
  const span = (hours * HOUR) / days;
  const out: Fault[] = [];
  for (let d = 0; d < days; d++) {
    // Between the first hour and the last 1.5 hours of each day's share, evenly.
    const from = d * span + Math.min(HOUR, span * 0.15);
    const to = (d + 1) * span - Math.min(1.5 * HOUR, span * 0.25);
    kinds.forEach((k, i) => out.push({ ...k, at: from + ((to - from) * i) / Math.max(1, kinds.length - 1) }));
  }
  return out;
}

/** The broker leading partition 0 of `topic`. */
async function leaderOf(admin: Admin, topic: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader ?? 1;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function infraStep(root: string, steps: string): void {
  const r = spawnSync("bash", ["-c", `set -euo pipefail; . "${root}/infra/lib.sh"; ${steps}`], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`infra step failed: ${steps}`);
}

async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const realStart = performance.now();
  const runId = Date.now().toString(36);
  const prefix = `soak.${runId}.`;
  const databaseUrl = await freshDatabase(o.adminDatabaseUrl, `vod_soak_${runId}`);
  const pool = createPool({ url: databaseUrl, max: 2, applicationName: "soak" });
  await runMigrations(createDb(pool));
  const kafka = createKafka({ brokers: o.brokers.split(","), clientId: "soak", log: o.log });
  const catalog = createCatalog(prefix);
  await createTopics(kafka, Object.values(catalog), o.log);

  const cluster = new Cluster(o.root, o.env, (line) => o.progress(`  ${line}`));
  const simUrl = `http://127.0.0.1:${o.simPort}`;
  const streams = Math.round(TWITCH_LIVE_STREAMS * o.scale);
  const budget = o.scale * o.speed;
  const admin = kafka.admin();
  let pgDown = false;
  try {
    cluster.start({
      name: "twitch-sim",
      service: "twitch-sim",
      script: "packages/twitch-sim/src/main.ts",
      args: [
        "--port",
        String(o.simPort),
        "--seed",
        String(o.seed),
        "--streams",
        String(streams),
        "--speed",
        String(o.speed),
        "--world",
        "realistic",
        // The judge asks for the truth of every VOD that ended in the run: the world must not forget any
        // (by default it forgets a VOD 12 simulated hours after its end).
        "--retain",
        `${o.learnHours + o.warmupHours + o.hours + 2}h`,
        "--log-level",
        "warn",
      ],
      env: {},
      // Its request timestamps are the measure of the budget: its own stalls must not bunch them.
      priority: -10,
    });
    await waitForHttp(`${simUrl}/healthz`, 120_000);
    // The fetchers' CDN requests are counted on their way, by a process small enough not to stall.
    const meterUrl = `http://127.0.0.1:${o.meterPort}`;
    cluster.start({
      name: "cdn-meter",
      service: "cdn-meter",
      script: "bench/soak/cdn-meter.ts",
      args: [String(o.meterPort), simUrl],
      env: {},
      priority: -10,
    });
    await waitForHttp(`${meterUrl}/meter`, 60_000);
    let world = await getJson<{ now: string; configuredDomains: string[]; domains: string[] }>(`${simUrl}/admin/world`);
    if (o.learnHours > 0) {
      o.progress(`learning ${o.learnHours} simulated hours in fast-forward (the fetcher's own code, no budget)...`);
      const learned = await learnHours({
        simUrl,
        databaseUrl,
        hours: o.learnHours,
        speed: o.speed,
        configuredDomains: world.configuredDomains,
        minViewers: MIN_VIEWERS,
        muteMarginMs: MUTE_MARGIN_MS,
        log: o.log,
      });
      o.progress(
        `  learned from ${learned.vods} VODs of ${learned.streamers} streamers (${learned.found} found, ${learned.notFound} not found, ${learned.requests} requests, ${learned.deepRequests} of them by the deep search, which found ${learned.deepFound}) in ${learned.realSeconds} real s`,
      );
      world = await getJson(`${simUrl}/admin/world`);
    }
    const simStart = Date.parse(world.now);
    const t0 = simStart + o.warmupHours * HOUR;
    const end = t0 + o.hours * HOUR;
    const groups = { writer: `${prefix}writer`, "hls-fetcher": `${prefix}hls-fetcher`, delay: `${prefix}delay` };
    const common = {
      KAFKA_BROKERS: o.brokers,
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: "info",
      OPS_PORT: "0",
      CLOCK_SPEED: String(o.speed),
      CLOCK_ORIGIN: world.now,
      CLOCK_REAL_ORIGIN: new Date().toISOString(),
    };
    // Timeouts are real time: at 60x a 15 s request timeout would hold a blackholed request for 15
    // simulated minutes. Scaled by the speed like the budgets, with a floor a busy machine allows.
    const timeout = (realSeconds: number) => `${Math.max(1000, Math.round((realSeconds * 1000) / o.speed))}ms`;
    const specs: ProcessSpec[] = [];
    const add = (service: string, count: number, env: Record<string, string>) => {
      for (let i = 1; i <= count; i++)
        specs.push({
          name: `${service}-${i}`,
          service,
          script: `services/${service}/src/main.ts`,
          env: { ...common, ...env },
        });
    };
    add("writer", o.instances, { GROUP_ID: groups.writer });
    add("hls-fetcher", o.instances, {
      GROUP_ID: groups["hls-fetcher"],
      ...(o.env.SOAK_FETCHER_LOG_LEVEL ? { LOG_LEVEL: o.env.SOAK_FETCHER_LOG_LEVEL } : {}),
      REDIS_URL: o.redisUrl,
      CDN_URL_TEMPLATE: `${meterUrl}/cdn/{domain}/`,
      GQL_ENDPOINT: `${simUrl}/gql`,
      CDN_DOMAINS: world.configuredDomains.join(","),
      RATE_PER_SECOND: String(CDN_RATE * budget * (o.warmupHours > 0 ? o.warmupBudget : 1)),
      RATE_FLOOR_PER_SECOND: String(0.2 * budget),
      // Ten processes, the brokers and the simulator on two cores: arrivals bunch by up to 100 ms (the
      // simulator's own event loop included), where 30 ms is ample on a quiet host.
      RATE_SLACK: "100ms",
      GQL_RATE: String(FETCHER_GQL_RATE * budget),
      CONNECT_TIMEOUT: timeout(3),
      HEADERS_TIMEOUT: timeout(5),
      BODY_TIMEOUT: timeout(10),
      REQUEST_TIMEOUT: timeout(15),
      GQL_TIMEOUT: timeout(3),
      // Real latencies (GQL, the CDN, PostgreSQL) do not shrink with the clock: at 60x the same budget a
      // simulated second holds many more VODs in flight per real second.
      CONCURRENCY: "24",
    });
    add("delay", o.instances, {
      GROUP_ID: groups.delay,
      MUTE_MARGIN: `${MUTE_MARGIN_MS / MIN}m`,
      MIN_VIEWERS: String(MIN_VIEWERS),
    });
    // One poller: it is the single producer of sweeps.
    add("live-poller", 1, {
      GQL_ENDPOINT: `${simUrl}/gql`,
      GQL_RATE: String(POLLER_GQL_RATE * budget),
      GQL_TIMEOUT: timeout(10),
    });
    for (const s of specs) cluster.start(s);

    // Faults the simulator plays itself are scheduled now, in simulated time.
    const schedule =
      o.faults === false ? [] : faultSchedule(o.hours, o.infraFaults, world.domains, o.brokerCluster?.nodes);
    const windows: (Window & { kind: string })[] = schedule.map((f) => ({
      name: f.name,
      kind: f.kind,
      from: t0 + f.at,
      until: t0 + f.at + Math.max(f.forMs, 10 * MIN),
    }));
    const simFaults = schedule
      .map((f, i) => ({ f, i }))
      .filter(({ f }) => f.kind === "sim")
      .map(({ f, i }) => ({
        id: `soak-${i}`,
        ...f.sim,
        from: new Date(t0 + f.at).toISOString(),
        until: new Date(t0 + f.at + f.forMs).toISOString(),
      }));
    await getJson(`${simUrl}/admin/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ add: simFaults }),
    });
    const pending = schedule.filter((f) => f.kind !== "sim").sort((a, b) => a.at - b.at);
    const topicNames = Object.values(catalog).map((t) => t.name);
    let victim = 1;
    // A failed broker step fails the run when it ends, as a failed infra step does at once.
    let brokerWork: Promise<void> = Promise.resolve();
    let brokerError: unknown;
    o.progress(
      `soak ${runId}: ${streams} live streams, ${o.warmupHours} simulated hours of warm-up (CDN budget x${o.warmupBudget}) then ${o.hours} measured at ${o.speed}x, ${o.instances} instance(s) of each service, CDN budget ${CDN_RATE * budget}/s; topics ${prefix}*; logs .infra/soak/`,
    );
    for (const f of schedule) o.progress(`  fault at +${(f.at / HOUR).toFixed(1)} h: ${f.name}`);

    await admin.connect();
    const consumed: Record<string, string[]> = {
      writer: [catalog.streamSnapshots.name, catalog.vodFetchResults.name],
      "hls-fetcher": [catalog.vodFetchRequests.name],
      delay: [catalog.streamSnapshots.name, catalog.sweeps.name, catalog.vodFetchResults.name],
    };
    const lagSamples: LagSample[] = [];
    const sampleLag = async (at: number) => {
      const lag: Record<string, number> = {};
      for (const [service, topics] of Object.entries(consumed)) {
        let total = 0;
        for (const topic of topics) {
          const [highs, committed] = await Promise.all([
            admin.fetchTopicOffsets(topic),
            admin.fetchOffsets({ groupId: groups[service as keyof typeof groups], topics: [topic] }),
          ]);
          const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          for (const h of highs)
            total += Math.max(0, Number(h.high) - Math.max(Number(h.low), done.get(h.partition) ?? 0));
        }
        lag[service] = total;
      }
      lagSamples.push({ at, lag });
    };

    const simNow = async () => Date.parse((await getJson<{ now: string }>(`${simUrl}/admin/clock`)).now);
    let nextHour = simStart + HOUR;
    let measuring = false;
    for (;;) {
      await new Promise((r) => setTimeout(r, 2_000));
      const now = await simNow();
      if (!measuring && now >= t0) {
        // The measured window: the fetchers on the scaled budget, and requests, the busiest second
        // and GQL POSTs counted from here.
        if (o.warmupHours > 0 && o.warmupBudget !== 1) {
          await Promise.all(
            cluster
              .names("hls-fetcher")
              .map((name) => cluster.restart(name, { RATE_PER_SECOND: String(CDN_RATE * budget) })),
          );
        }
        await getJson(`${simUrl}/admin/stats/reset`, { method: "POST" });
        await getJson(`${meterUrl}/meter/reset`, { method: "POST" });
        measuring = true;
      }
      await sampleLag(now).catch(() => undefined);
      while (pending.length > 0 && t0 + pending[0]!.at <= now) {
        const f = pending.shift()!;
        o.progress(`  ${new Date(now).toISOString()}: ${f.name}`);
        if (f.kind === "kill9")
          for (const service of ["live-poller", "delay", "hls-fetcher", "writer"])
            cluster.kill9(cluster.names(service)[0]!);
        if (isBrokerFault(f.kind) && o.brokerCluster) {
          const bc = o.brokerCluster;
          const kind = f.kind;
          // One after another, without holding up the clock and the sampling. The victim: the broker leading the
          // first snapshot partition; the kill's is started again after its window.
          brokerWork = brokerWork
            .then(async () => {
              if (kind !== "broker-start") victim = await leaderOf(admin, catalog.streamSnapshots.name);
              await playBrokerFault(kind, bc, kafka, topicNames, victim);
            })
            .catch((err: unknown) => {
              brokerError ??= err;
            });
          if (kind === "broker-kill") {
            pending.push({ name: `${f.name}: started again`, kind: "broker-start", at: f.at + f.forMs, forMs: 0 });
            pending.sort((a, b) => a.at - b.at);
          }
        }
        if (f.kind === "kafka-restart")
          infraStep(o.root, "take_lock; kafka_cluster_stop; kafka_cluster_start; kafka_cluster_wait_ready");
        if (f.kind === "postgres-restart") {
          pgDown = true;
          infraStep(o.root, "take_lock; pg_stop; sleep 5; pg_start; pg_wait_ready");
          pgDown = false;
        }
      }
      if (now >= nextHour || now >= end) {
        const hour = Math.round((Math.min(now, end) - t0) / HOUR);
        const label =
          hour <= 0 ? `warm-up ${Math.round((now - simStart) / HOUR)}/${o.warmupHours}` : `hour ${hour}/${o.hours}`;
        const { rows } = await pool
          .query<{ found: number; all: number }>(
            `select count(*) filter (where outcome = 'found')::int as found, count(*)::int as all from vods`,
          )
          .catch(() => ({ rows: [{ found: -1, all: -1 }] }));
        const lag = lagSamples.at(-1)?.lag ?? {};
        o.progress(
          `[${label}, ${((performance.now() - realStart) / 60_000).toFixed(1)} real min] VODs seen ${rows[0]?.all}, archived ${rows[0]?.found}, waiting: fetch ${lag["hls-fetcher"] ?? "?"}, writer ${lag.writer ?? "?"}, delay ${lag.delay ?? "?"}`,
        );
        nextHour += HOUR;
      }
      if (now >= end) break;
    }
    await brokerWork;
    if (brokerError !== undefined) throw brokerError;

    // ---- judge ------------------------------------------------------------------------------
    const stats = await getJson<{
      cdn: { requests: number; maxPerSecond: number; maxIn900ms: number };
      gql: { requests: number };
      eventLoopMaxMs: number;
    }>(`${simUrl}/admin/stats`);
    const meter = await getJson<{ requests: number; maxPerSecond: number; maxIn900ms: number; eventLoopMaxMs: number }>(
      `${meterUrl}/meter`,
    );
    const truth: VodTruth[] = [];
    for (let offset = 0; ; offset += 5000) {
      const page = await getJson<{ total: number; vods: VodTruth[] }>(
        `${simUrl}/admin/vods?state=ended&endedFrom=${simStart}&endedBefore=${end}&limit=5000&offset=${offset}`,
      );
      truth.push(...page.vods);
      if (page.vods.length < 5000) break;
    }
    const { rows } = await pool.query<{
      stream_id: string;
      start_time: Date;
      outcome: ArchivedRow["outcome"];
      fetched_at: Date | null;
      segment_count: number | null;
      playlist_gz: Buffer | null;
      max_viewers: number;
    }>(`select stream_id::text, start_time, outcome, fetched_at, segment_count, playlist_gz, max_viewers from vods`);
    const archived: ArchivedRow[] = rows.map((r) => ({
      streamId: r.stream_id,
      startTime: r.start_time.toISOString(),
      outcome: r.outcome,
      fetchedAt: r.fetched_at?.toISOString() ?? null,
      segments: r.segment_count,
      endlist: r.playlist_gz ? gunzipSync(r.playlist_gz).toString("utf8").includes("#EXT-X-ENDLIST") : null,
      maxViewers: r.max_viewers,
    }));
    const releases: Release[] = [];
    await readRange(
      {
        kafka,
        topic: catalog.vodFetchRequests.name,
        groupId: `${prefix}soak-reader`,
        from: (_p, low) => low,
        log: o.log,
      },
      (messages) => {
        for (const m of messages) {
          if (!m.value) continue;
          const parsed = parseValue(vodFetchRequest, m.value);
          if (parsed.success)
            releases.push({
              streamId: parsed.data.streamId,
              startTime: parsed.data.startTime,
              releaseAt: parsed.data.releaseAt,
            });
        }
      },
    );
    const judgement = judge({
      truth,
      endedFrom: t0,
      rows: archived,
      releases,
      dueBefore: end - HOUR,
      minViewers: MIN_VIEWERS,
      muteMarginMs: MUTE_MARGIN_MS,
      faults: windows,
    });

    // Backlogs: after each fault window, how long until every group is back to its usual lag.
    const drains = drainTimes(lagSamples, windows, Object.keys(consumed), end);
    const maxLag: Record<string, number> = {};
    for (const s of lagSamples) for (const [g, n] of Object.entries(s.lag)) maxLag[g] = Math.max(maxLag[g] ?? 0, n);

    // Per simulated hour: VODs ended (truth), archived, the fetch backlog, release → archived latency.
    const hours: HourRow[] = [];
    const releaseOf = new Map<string, number>();
    for (const r of releases)
      releaseOf.set(
        `${r.streamId}@${new Date(r.startTime).toISOString()}`,
        Math.max(releaseOf.get(`${r.streamId}@${new Date(r.startTime).toISOString()}`) ?? 0, Date.parse(r.releaseAt)),
      );
    for (let h = 0; h < o.hours; h++) {
      const from = t0 + h * HOUR;
      const to = from + HOUR;
      const inHour = (iso: string | null) => iso !== null && Date.parse(iso) >= from && Date.parse(iso) < to;
      const lat = archived
        .filter((r) => r.outcome === "found" && inHour(r.fetchedAt))
        .map(
          (r) =>
            (Date.parse(r.fetchedAt!) - (releaseOf.get(`${r.streamId}@${r.startTime}`) ?? Date.parse(r.fetchedAt!))) /
            MIN,
        );
      hours.push({
        hour: h,
        ended: truth.filter((t) => t.peakViewers >= MIN_VIEWERS && inHour(t.endedAt)).length,
        archived: archived.filter((r) => r.outcome === "found" && inHour(r.fetchedAt)).length,
        backlogMax: Math.max(
          0,
          ...lagSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.lag["hls-fetcher"] ?? 0),
        ),
        latencyP50Min: Math.round(percentile(lat, 50) * 10) / 10,
        latencyP99Min: Math.round(percentile(lat, 99) * 10) / 10,
      });
    }
    // Requests were counted from t0: so are the VODs they were for.
    const fetchedVods = archived.filter(
      (r) => r.outcome !== null && r.fetchedAt !== null && Date.parse(r.fetchedAt) >= t0,
    ).length;
    const rssMb = cluster.rss();
    return {
      scale: o.scale,
      simHours: o.hours,
      learnHours: o.learnHours,
      warmupHours: o.warmupHours,
      instances: o.instances,
      startedAt: t0,
      ...judgement,
      requestsPerVod: Math.round((stats.cdn.requests / Math.max(1, fetchedVods)) * 1000) / 1000,
      busiestSecond: meter.maxPerSecond,
      busiestIn900ms: meter.maxIn900ms,
      busiestSecondAtSimulator: stats.cdn.maxPerSecond,
      simStallMaxMs: stats.eventLoopMaxMs,
      meterStallMaxMs: meter.eventLoopMaxMs,
      requestsPerSecond: Math.round((stats.cdn.requests / Math.max(1, (end - t0) / o.speed / 1000)) * 10) / 10,
      limitPerSecond: Math.round(CDN_RATE * budget * 1000) / 1000,
      gqlPostsPerMinute: Math.round((stats.gql.requests / Math.max(1, (end - t0) / MIN)) * 10) / 10,
      maxLag,
      maxDrainMin: Math.max(0, ...drains.map((d) => d.simMinutes)),
      brokers: o.brokerCluster?.nodes ?? 1,
      maxBrokerFaultDrainMin: Math.max(
        0,
        ...drains.filter((d) => BROKER_FAULTS.some((b) => d.fault === b.name)).map((d) => d.simMinutes),
      ),
      drains,
      rssMbMax: Math.max(
        0,
        ...Object.entries(rssMb)
          .filter(([s]) => s !== "twitch-sim" && s !== "cdn-meter")
          .map(([, v]) => v),
      ),
      rssMb,
      restarts: cluster.restarts(),
      realMinutes: Math.round(((performance.now() - realStart) / 60_000) * 10) / 10,
      faults: windows,
      hours,
    };
  } finally {
    if (pgDown) infraStep(o.root, "pg_start; pg_wait_ready");
    await cluster.stop(["live-poller", "delay", "hls-fetcher", "writer", "cdn-meter", "twitch-sim"]);
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}
