/**
 * Delay benchmark at Twitch's size: 100,000 live VODs tracked through the real broker by the real
 * delay (its main.ts, a child process). Several sweeps of snapshots with 2% churn per sweep (streams
 * ending, new ones starting), then a kill -9 and a restart, then one more sweep. Reports the
 * delay's RSS, how long it takes to handle a sweep, state records written per sweep, and the
 * restore time after the restart. Last line: one JSON object.
 *
 *   npm run bench:delay [-- --streams 100000 --sweeps 6 --churn 2000 --max-old-space 256]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Kafka } from "kafkajs";
import {
  createCatalog,
  createKafka,
  createProducer,
  createTopics,
  snapshotsPerPartition,
  sweepMarkers,
  type StreamSnapshot,
  type SweepMarker,
} from "@vod/kafka";
import { serviceNodeFlags } from "@vod/cli";
import { createLogger } from "@vod/log";
import { childEnv } from "@vod/testing";
import { benchEnv, ensureInfra } from "./env.ts";

await ensureInfra(["kafka"]);

const { values: args } = parseArgs({
  options: {
    streams: { type: "string", default: "100000" },
    sweeps: { type: "string", default: "6" },
    churn: { type: "string", default: "2000" },
    /** V8 old-space limit of the delay process in MB, instead of the one in its nodeFlags; 0: node's default. */
    "max-old-space": { type: "string" },
  },
});
const STREAMS = Number(args.streams);
const SWEEPS = Number(args.sweeps);
const CHURN = Number(args.churn);
const SWEEP_MS = 300_000;
const log = createLogger({ service: "bench", level: "warn" });
const tag = `${process.pid}_${Date.now().toString(36)}`;
const prefix = `bench_delay_${tag}.`;
const catalog = createCatalog(prefix);
const kafka = createKafka({ brokers: benchEnv.KAFKA_BROKERS, clientId: "bench-delay", log });
// Sweeps are dated in the recent past, 5 minutes apart, so ends and releases happen as they would live.
const T0 = Math.floor((Date.now() - (SWEEPS + 2) * SWEEP_MS) / 1000) * 1000;
const iso = (t: number) => new Date(t).toISOString();

/** VOD n is live in sweeps whose window [s*CHURN, s*CHURN + STREAMS) holds n. */
function sweep(s: number): { snapshots: StreamSnapshot[]; markers: SweepMarker[] } {
  const startedAt = T0 + s * SWEEP_MS;
  const snapshots: StreamSnapshot[] = [];
  for (let n = s * CHURN; n < s * CHURN + STREAMS; n++) {
    snapshots.push({
      v: 1,
      sweepId: `sweep-${s}`,
      observedAt: iso(startedAt + 1_000 + Math.floor((n % STREAMS) / 1_000) * 1_000),
      streamId: String(50_000_000_000 + n),
      startTime: iso(T0 - (n % 7_200) * 1_000 - 3_600_000),
      streamerId: String(2_000_000 + n),
      login: `streamer_${n}`,
      viewers: 5 + ((n * 7_919 + s * 104_729) % 5_000),
      title: `Stream ${n} with a title of ordinary length`,
      gameId: String(n % 500),
      gameName: `Game ${n % 500}`,
      language: n % 3 === 0 ? "de" : "en",
      mature: n % 11 === 0,
    });
  }
  // One marker per snapshot partition, as the poller publishes them.
  const summary = {
    sweepId: `sweep-${s}`,
    startedAt: iso(startedAt),
    finishedAt: iso(startedAt + 120_000),
    complete: true,
    reason: null,
    count: snapshots.length,
  };
  return { snapshots, markers: sweepMarkers(summary, snapshotsPerPartition(snapshots)) };
}

async function offsets(
  k: Kafka,
  groupId: string | undefined,
  topic: string,
): Promise<{ end: bigint; committed: bigint; behind: boolean }> {
  const admin = k.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const end = ends.reduce((n, p) => n + BigInt(p.high), 0n);
    if (!groupId) return { end, committed: 0n, behind: false };
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const done = new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const behind = ends.some((p) => BigInt(p.high) > 0n && (done.get(p.partition) ?? -1n) < BigInt(p.high));
    return { end, committed: [...done.values()].reduce((n, o) => n + (o > 0n ? o : 0n), 0n), behind };
  } finally {
    await admin.disconnect();
  }
}

const stateEnd = async () => (await offsets(kafka, undefined, catalog.delayState.name)).end;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Delay {
  child: ChildProcess;
  port: number;
  /** Resolves with the parsed "partitions restored" log line (one instance: all partitions in one restore). */
  restored: Promise<{ at: number; vods: number; records: number; ms: number }>;
  exited: Promise<number | null>;
}

const GROUP = `bench-delay-${tag}`;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DELAY_MAIN = "services/delay/src/main.ts";
async function spawnDelay(): Promise<Delay> {
  const port = await freePort();
  // The delay's own flags (services/delay/package.json), unless --max-old-space replaces its heap cap (0: node's default).
  const own = serviceNodeFlags(ROOT, DELAY_MAIN).filter(
    (f) => !(args["max-old-space"] !== undefined && f.startsWith("--max-old-space-size=")),
  );
  const cap =
    args["max-old-space"] !== undefined && args["max-old-space"] !== "0"
      ? [`--max-old-space-size=${args["max-old-space"]}`]
      : [];
  const child = spawn(process.execPath, [...own, ...cap, "--import", "tsx", join(ROOT, DELAY_MAIN)], {
    env: childEnv({
      KAFKA_BROKERS: benchEnv.KAFKA_BROKERS.join(","),
      TOPIC_PREFIX: prefix,
      GROUP_ID: GROUP,
      OPS_PORT: String(port),
      LOG_LEVEL: "info",
    }),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buffer = "";
  const restored = new Promise<{ at: number; vods: number; records: number; ms: number }>((resolve) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.includes('"partitions restored"')) {
          const parsed = JSON.parse(line) as { vods: number; records: number; ms: number };
          resolve({ at: performance.now(), vods: parsed.vods, records: parsed.records, ms: parsed.ms });
        } else if (/"level":(50|60)/.test(line)) {
          console.error(line);
        }
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, port, restored, exited };
}

async function healthy(d: Delay): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${d.port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function events(d: Delay): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^delay_(events|vods)\{(?:event|status)="(\w+)"[^}]*\} (\S+)$/gm))
    out[`${m[1]}.${m[2]}`] = Number(m[3]);
  return out;
}

async function heapUsedMb(d: Delay): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
  return Math.round(Number(/^nodejs_heap_size_used_bytes\S* (\S+)$/m.exec(text)?.[1] ?? 0) / 1_048_576);
}

function memory(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

await createTopics(kafka, Object.values(catalog), log);
const producer = await createProducer(kafka, log);
const inputs = [catalog.streamSnapshots.name, catalog.sweeps.name];
const caughtUp = async () => {
  for (const t of inputs) if ((await offsets(kafka, GROUP, t)).behind) return false;
  return true;
};

let delay = await spawnDelay();
await delay.restored;
await until(() => healthy(delay), 60_000, "delay healthy");

const perSweep: { sweep: number; produceS: number; handledS: number; stateRecords: number }[] = [];
/** Publishes one sweep and waits until the delay has handled it (inputs committed, marker evaluated, state written). */
async function runSweep(s: number): Promise<void> {
  const before = await stateEnd();
  const { snapshots, markers } = sweep(s);
  const t0 = performance.now();
  for (let i = 0; i < snapshots.length; i += 10_000)
    await producer.send(catalog.streamSnapshots, snapshots.slice(i, i + 10_000));
  await producer.send(catalog.sweeps, markers);
  const produced = performance.now();
  // The committed input offsets say when the sweep was handled (state is written before they are committed).
  await until(caughtUp, 600_000, `sweep ${s} handled`);
  const handled = performance.now();
  // Let the release loop write what the sweep decided (releases, their state records).
  await new Promise((r) => setTimeout(r, 1_500));
  const stateRecords = Number((await stateEnd()) - before);
  perSweep.push({
    sweep: s,
    produceS: round((produced - t0) / 1000),
    handledS: round((handled - produced) / 1000),
    stateRecords,
  });
  console.log(
    `sweep ${s}: ${snapshots.length} snapshots produced in ${round((produced - t0) / 1000)} s, handled ${round((handled - produced) / 1000)} s after; ${stateRecords} state records`,
  );
}
const round = (x: number) => Math.round(x * 100) / 100;

for (let s = 0; s < SWEEPS; s++) await runSweep(s);
const before = memory(delay.child.pid!);
const heapBefore = await heapUsedMb(delay);
console.log(
  `delay RSS ${before.rssMb} MB (peak ${before.peakMb} MB, V8 heap used ${heapBefore} MB) with ${STREAMS} live VODs tracked`,
);

// kill -9 and restart: the restore reads the compacted state topic.
delay.child.kill("SIGKILL");
await delay.exited;
const stateRecordsTotal = Number(await stateEnd());
const spawnedAt = performance.now();
delay = await spawnDelay();
const restored = await delay.restored;
await until(() => healthy(delay), 120_000, "delay healthy after restart");
const restoreS = round((restored.at - spawnedAt) / 1000);
const readyS = round((performance.now() - spawnedAt) / 1000);
const restoreReadS = round(restored.ms / 1000);
// The partitions are assigned (and restored) once the group has waited out the dead member's session.
console.log(
  `restart: ${restored.records} state records read, ${restored.vods} VODs restored in ${restoreReadS} s, ${restoreS} s from spawn (healthy after ${readyS} s)`,
);
const afterRestore = memory(delay.child.pid!);
// One more sweep after the restart: handled, and ends only what really left.
await runSweep(SWEEPS);
const e = await new Promise<Record<string, number>>((r) => setTimeout(() => void events(delay).then(r), 61_000));
const after = memory(delay.child.pid!);
console.log(
  `after the restart and one sweep: RSS ${after.rssMb} MB (peak ${after.peakMb} MB); events ${JSON.stringify(e)}`,
);

delay.child.kill("SIGTERM");
const code = await delay.exited;
await producer.disconnect();
const admin = kafka.admin();
await admin.connect();
await admin
  .deleteTopics({ topics: Object.values(catalog).flatMap((t) => [t.name, `${t.name}.dlq`]) })
  .catch(() => undefined);
await admin.disconnect();

const steady = perSweep.filter((p) => p.sweep > 0 && p.sweep < SWEEPS);
console.log(
  JSON.stringify({
    streams: STREAMS,
    sweeps: SWEEPS,
    churnPerSweep: CHURN,
    rssMb: before.rssMb,
    peakRssMb: Math.max(before.peakMb, after.peakMb),
    heapUsedMb: heapBefore,
    maxOldSpaceMb: (() => {
      const flag =
        args["max-old-space"] ??
        serviceNodeFlags(ROOT, DELAY_MAIN)
          .find((f) => f.startsWith("--max-old-space-size="))
          ?.split("=")[1];
      return flag === undefined || flag === "0" ? null : Number(flag);
    })(),
    rssAfterRestoreMb: afterRestore.rssMb,
    rssAfterRestartSweepMb: after.rssMb,
    restoreSeconds: restoreS,
    restoreReadSeconds: restoreReadS,
    readySeconds: readyS,
    restoredVods: restored.vods,
    restoredRecords: restored.records,
    stateRecordsTotal,
    stateRecordsFirstSweep: perSweep[0]!.stateRecords,
    stateRecordsPerSweep: Math.round(steady.reduce((n, p) => n + p.stateRecords, 0) / Math.max(1, steady.length)),
    sweepHandledSecondsMax: Math.max(...perSweep.map((p) => p.handledS)),
    exitCode: code,
  }),
);
