// A deployment of the unpartitioned layout (delay.state in 3 partitions, records placed by their own
// key): the delay refuses to start until the topics are altered, then MIGRATE_STATE moves each
// record to its streamer's partition, and the state restores whole.
import { afterAll, describe, expect, it } from "vitest";
import {
  createCatalog,
  createProducer,
  createTopics,
  partitionOf,
  type DelayVod,
  type TopicDef,
  type TypedProducer,
} from "@vod/kafka";
import { readAll, testLog, uniqueName, until } from "@vod/testing";
import { start as startDelay, readEnv as delayEnv, vodKeyOf, type StartedDelay } from "../services/delay/src/index.ts";
import { brokers, testBroker } from "./fixtures/delay-pipeline.ts";

const prefix = `${uniqueName("dm")}.`;
const catalog = createCatalog(prefix);
const kafka = testBroker("delay-migrate-test");
let producer: TypedProducer | undefined;
let delay: StartedDelay | undefined;
const iso = (t: number) => new Date(t).toISOString();
const T = Date.parse("2025-01-06T12:00:00.000Z");

const vods: DelayVod[] = Array.from({ length: 24 }, (_, i) => ({
  v: 1,
  kind: "vod",
  streamId: String(880_000 + i),
  startTime: iso(T - 3_600_000),
  streamerId: String(7_000 + i * 11),
  login: `m${i}`,
  firstSeen: iso(T - 3_500_000),
  lastSeen: iso(T),
  maxViewers: 50,
  status: i % 3 === 0 ? "ended" : "live",
  endedAt: i % 3 === 0 ? iso(T + 60_000) : null,
  endReason: i % 3 === 0 ? "absent" : null,
  releaseAt: i % 3 === 0 ? iso(T + 86_400_000) : null,
  releasedAt: null,
}));

afterAll(async () => {
  await delay?.close();
  await producer?.disconnect();
});

describe("delay state of the unpartitioned layout", () => {
  it("is refused with the fix named, then moved to its streamers' partitions and restored whole", async () => {
    const { delayState, ...rest } = catalog;
    await createTopics(kafka, [...Object.values(rest), { ...(delayState as TopicDef), partitions: 3 }], testLog);
    const admin = kafka.admin();
    await admin.connect();
    producer = await createProducer(kafka, testLog);
    // As the old layout wrote them: placed by the hash of their own key over 3 partitions.
    const old = [
      ...vods.map((v) => ({ key: vodKeyOf(v.streamId, v.startTime), value: JSON.stringify(v) })),
      { key: "progress", value: JSON.stringify({ v: 1, kind: "progress", observedAt: iso(T + 30_000) }) },
      {
        key: "sweep:s1",
        value: JSON.stringify({
          v: 1,
          kind: "sweep",
          marker: {
            v: 1,
            sweepId: "s1",
            startedAt: iso(T),
            finishedAt: iso(T + 1000),
            complete: true,
            reason: null,
            count: 3,
          },
          receivedAt: iso(T),
        }),
      },
    ];
    await producer.sendRaw(
      delayState.name,
      old.map((m) => ({ ...m, partition: partitionOf(m.key, 3) })),
    );

    const env = {
      KAFKA_BROKERS: brokers(),
      TOPIC_PREFIX: prefix,
      GROUP_ID: uniqueName("delay"),
      OPS_PORT: "0",
      LOG_LEVEL: "silent",
    };
    await expect(startDelay(delayEnv(env), testLog)).rejects.toThrow(
      new RegExp(
        `${delayState.name.replace(/\./g, "\\.")} has 3.*--alter --topic ${delayState.name.replace(/\./g, "\\.")} --partitions 6`,
      ),
    );

    await admin.createPartitions({ topicPartitions: [{ topic: delayState.name, count: 6 }] });
    // The broker's metadata lags the alteration by a moment; an operator's restart comes later than that.
    await until(
      async () =>
        (await admin.fetchTopicMetadata({ topics: [delayState.name] })).topics[0]!.partitions.filter(
          (p) => p.leader >= 0,
        ).length === 6,
      30_000,
      "six partitions with leaders",
    );
    await admin.disconnect();
    delay = await startDelay(delayEnv({ ...env, MIGRATE_STATE: "true" }), testLog);
    await until(() => delay!.delay.trackers().size === 6, 30_000, "six partitions restored");
    for (const v of vods) {
      const tracker = delay.delay.trackers().get(partitionOf(v.streamerId))!;
      expect(tracker.vods.get(vodKeyOf(v.streamId, v.startTime))).toMatchObject({
        status: v.status,
        releaseAt: v.releaseAt,
      });
    }
    expect([...delay.delay.trackers().values()].reduce((n, t) => n + t.vods.size, 0)).toBe(vods.length);
    await delay.close();
    delay = undefined;

    // Every old copy away from its home partition is tombstoned; progress is one record per partition.
    const records = await readAll(kafka, delayState.name, testLog);
    const lastOf = new Map<string, unknown>();
    for (const r of records) lastOf.set(`${r.partition}|${r.key}`, r.value);
    for (const m of old) {
      const home = m.key.startsWith("vod:")
        ? partitionOf(vods.find((v) => vodKeyOf(v.streamId, v.startTime) === m.key)!.streamerId)
        : -1;
      if (home !== partitionOf(m.key, 3)) expect(lastOf.get(`${partitionOf(m.key, 3)}|${m.key}`)).toBeNull();
    }
    for (let p = 0; p < 6; p++)
      expect(lastOf.get(`${p}|progress:${p}`)).toMatchObject({ kind: "progress", partition: p });
  }, 90_000);
});
