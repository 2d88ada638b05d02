// kill -9 of the delay at each step of a release, aimed from inside the process (services/delay/src/
// __fixtures__/crash-at.ts), then another instance of its group takes the partitions over. The VOD is
// one that ends in the release loop itself (a sweep held behind an earlier one that never completes,
// evaluated once the inputs are caught up) and is due at once: its "ended" record is never written
// before its release. Whatever step the kill hits, the VOD is released exactly once and the state
// topic ends with it released.
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  createCatalog,
  createProducer,
  createTopics,
  partitionOf,
  snapshotsPerPartition,
  STREAM_PARTITIONS,
  sweepMarkers,
  type VodFetchRequest,
} from "@vod/kafka";
import { bareSnapshot, readAll, spawnMain, testLog, uniqueName, until } from "@vod/testing";
import { start as startDelay, readEnv as delayEnv, type StartedDelay } from "../services/delay/src/index.ts";
import { brokers, DELAY_PERIODS, MIN, testBroker } from "./fixtures/delay-pipeline.ts";

const iso = (t: number) => new Date(t).toISOString();
const CRASHING = fileURLToPath(new URL("../services/delay/src/__fixtures__/crash-at.ts", import.meta.url));
const kafka = testBroker("delay-release-crash-test");
const started: StartedDelay[] = [];

afterAll(async () => {
  for (const d of started) await d.close().catch(() => undefined);
});

/** Topics holding one VOD that ends in the release loop and is due at once, and the delay's settings. */
async function world() {
  const prefix = `${uniqueName("drc")}.`;
  const catalog = createCatalog(prefix);
  await createTopics(kafka, Object.values(catalog), testLog);
  const env = {
    KAFKA_BROKERS: brokers(),
    TOPIC_PREFIX: prefix,
    GROUP_ID: uniqueName("delay"),
    ...DELAY_PERIODS,
    SESSION_TIMEOUT: "6s",
    MAX_ORDER_WAIT: "0",
    OPS_PORT: "0",
  };
  // One VOD seen 40 minutes ago (real clock): long past its release time once a sweep finds it gone.
  const T = Date.now() - 40 * MIN;
  const streamerId = "4242";
  const partition = partitionOf(streamerId);
  const snapshot = bareSnapshot({
    sweepId: "a",
    observedAt: iso(T + 1_000),
    streamId: "909",
    startTime: iso(T - 30 * MIN),
    streamerId,
    login: "crash_me",
    viewers: 50,
  });
  const only = snapshotsPerPartition([{ streamerId }]);
  const sweep = (id: string, at: number, count: number) => ({
    sweepId: id,
    startedAt: iso(at),
    finishedAt: iso(at + 2_000),
    complete: true,
    reason: null,
    count,
  });
  const feeder = await createProducer(kafka, testLog);
  try {
    await feeder.send(catalog.streamSnapshots, [snapshot]);
    await feeder.send(catalog.sweeps, [
      ...sweepMarkers(sweep("a", T, 1), only),
      // Two snapshots that never come: "b" waits until the inputs are caught up, and "c" behind it.
      ...sweepMarkers(
        sweep("b", T + 5 * MIN, 2),
        only.map((n) => n * 2),
      ),
      ...sweepMarkers(sweep("c", T + 20 * MIN, 0), new Array<number>(STREAM_PARTITIONS).fill(0)),
    ]);
  } finally {
    await feeder.disconnect();
  }
  return { catalog, env, snapshot, partition, T, only, sweep };
}

/** What the topics hold about the VOD once the next member has had the partition for a while. */
async function afterTakeover(w: Awaited<ReturnType<typeof world>>) {
  const { catalog, env, snapshot, partition } = w;
  const next = await startDelay(delayEnv({ ...env, LOG_LEVEL: "silent" }), testLog);
  started.push(next);
  await until(() => next.delay.trackers().has(partition), 60_000, "the partition restored by the next member");
  // Long enough for the next member's release loop to release it (again) if it thinks it due.
  await new Promise((r) => setTimeout(r, 3_000));
  const releases = (await readAll(kafka, catalog.vodFetchRequests.name, testLog)).map(
    (r) => r.value as VodFetchRequest,
  );
  const state = (await readAll(kafka, catalog.delayState.name, testLog)).filter(
    (r) => r.key === `vod:909:${snapshot.startTime}`,
  );
  return { next, releases, last: state.at(-1)?.value as { status?: string } | undefined };
}

async function crashAt(step: "before-send" | "after-commit") {
  const w = await world();
  const crashing = spawnMain(CRASHING, { ...w.env, LOG_LEVEL: "warn", CRASH_AT: step });
  expect(await crashing.exited).toBe("SIGKILL");

  // Another member of the group: it gets the partitions once the dead one's session has expired.
  return afterTakeover(w);
}

describe("delay: kill -9 at each step of a release", () => {
  for (const step of ["before-send", "after-commit"] as const) {
    it(`released once after a kill ${step === "before-send" ? "before the release was sent" : "right after its commit"}`, async () => {
      const { releases, last } = await crashAt(step);
      expect(releases.map((r) => r.streamId)).toEqual(["909"]);
      expect(last?.status).toBe("released");
    }, 120_000);
  }
});

describe("delay: a record that trails its release", () => {
  it("is reconciled at restore: a member that lost the partition wrote the VOD live after it was released", async () => {
    const w = await world();
    const first = await startDelay(delayEnv({ ...w.env, LOG_LEVEL: "silent" }), testLog);
    await until(
      async () => (await readAll(kafka, w.catalog.vodFetchRequests.name, testLog)).length > 0,
      60_000,
      "the release",
    );
    await first.close();
    // The stale record, as a member that still thought it owned the partition would write it.
    const zombie = await createProducer(kafka, testLog);
    try {
      const released = (await readAll(kafka, w.catalog.vodFetchRequests.name, testLog))[0]!.value as VodFetchRequest;
      await zombie.send(w.catalog.delayState, [
        {
          ...released,
          kind: "vod",
          status: "live",
          endedAt: null,
          endReason: null,
          releaseAt: null,
          releasedAt: null,
        },
      ]);
      // And a later complete sweep that misses the VOD: taken for live, it would end and be due at once.
      await zombie.send(
        w.catalog.sweeps,
        sweepMarkers(w.sweep("d", w.T + 30 * MIN, 0), new Array<number>(STREAM_PARTITIONS).fill(0)),
      );
    } finally {
      await zombie.disconnect();
    }
    const { releases, last } = await afterTakeover(w);
    expect(releases.map((r) => r.streamId)).toEqual(["909"]);
    expect(last?.status).toBe("released");
  }, 120_000);
});
