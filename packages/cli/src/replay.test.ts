import { describe, expect, it } from "vitest";
import { z } from "zod";
import { vods } from "@vod/db";
import {
  committedOffsets,
  createTestTopics,
  freshDatabase,
  readTopic,
  testLog,
  uniqueName,
  useProducer,
} from "@vod/testing";
import { defineTopic, runConsumer, subscribe } from "@vod/kafka";
import { ReplayRefused, UsageError, parseReplayArgs, replay } from "./index.ts";
import { notYetFound } from "./replay-command.ts";

const { kafka, producer } = useProducer();

const T0 = Date.parse("2026-11-01T10:00:00Z");

async function until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
const minute = 60_000;

/** A one-partition topic with 10 messages, one a minute from T0, all consumed and committed by `group`. */
async function consumedTopic() {
  const topic = defineTopic({
    name: uniqueName("replay"),
    schema: z.object({ n: z.number() }),
    key: (v) => String(v.n),
    partitions: 1,
    retentionMs: -1,
  });
  await createTestTopics(kafka, [topic]);
  await producer.sendRaw(
    topic.name,
    Array.from({ length: 10 }, (_, n) => ({
      key: String(n),
      value: JSON.stringify({ n }),
      timestamp: String(T0 + n * minute),
    })),
  );
  const group = uniqueName("g");
  const seen: number[] = [];
  const c = await runConsumer({
    kafka,
    producer,
    log: testLog,
    groupId: group,
    subscriptions: [subscribe(topic, { eachMessage: async (m) => void seen.push(m.value.n) })],
  });
  await until(() => seen.length >= 10);
  return { topic: topic.name, group, consumer: c, seen };
}

describe("replay", () => {
  it("refuses to move offsets while the group has running members", async () => {
    const { topic, group, consumer } = await consumedTopic();
    await expect(replay(kafka, undefined, { group, topic, from: new Date(T0) })).rejects.toThrow(ReplayRefused);
    await expect(replay(kafka, undefined, { group, topic, from: new Date(T0) })).rejects.toThrow(/running member/);
    await consumer.stop();
  });

  it("dry run prints the plan and changes nothing; a real run resets to the first message at or after --from", async () => {
    const { topic, group, consumer } = await consumedTopic();
    await consumer.stop();
    const from = new Date(T0 + 4 * minute + 30_000);
    const dry = await replay(kafka, undefined, { group, topic, from, dryRun: true });
    expect(dry.partitions).toEqual([{ partition: 0, current: "10", target: "5" }]);
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(10n);

    const done = await replay(kafka, undefined, { group, topic, from });
    expect(done.applied).toBe(true);
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(5n);

    // Never forward: a --from after where the group stands leaves it there.
    const later = await replay(kafka, undefined, { group, topic, from: new Date(T0 + 8 * minute) });
    expect(later.partitions).toEqual([{ partition: 0, current: "5", target: "5" }]);
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(5n);
  });

  it("with --to, re-publishes exactly the window and leaves the group's offsets alone", async () => {
    const { topic, group, consumer, seen } = await consumedTopic();
    const r = await replay(kafka, producer, {
      group,
      topic,
      from: new Date(T0 + 2 * minute),
      to: new Date(T0 + 5 * minute),
    });
    // The running group handles the window again.
    await until(() => seen.length >= 13);
    await consumer.stop();
    expect(seen.slice(10)).toEqual([2, 3, 4]);
    expect(r).toMatchObject({
      mode: "window",
      applied: true,
      republished: 3,
      partitions: [{ partition: 0, target: "2", end: "5" }],
    });
    const all = await readTopic(kafka, topic, 13);
    expect(all.slice(10).map((m) => [m.value, m.headers["replay-of"]])).toEqual([
      ['{"n":2}', "0/2"],
      ['{"n":3}', "0/3"],
      ['{"n":4}', "0/4"],
    ]);
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(13n);
  });

  it("a window of fetch requests re-publishes only VODs not archived yet", async () => {
    const t = await freshDatabase();
    try {
      const topic = uniqueName("requests");
      await createTestTopics(kafka, [
        defineTopic({ name: topic, schema: z.unknown(), key: () => "k", partitions: 1, retentionMs: -1 }),
      ]);
      const req = (n: number) => ({
        v: 1,
        streamId: String(500 + n),
        startTime: new Date(T0 + n * minute).toISOString(),
        streamerId: "77",
        login: "someone",
        firstSeen: new Date(T0).toISOString(),
        lastSeen: new Date(T0).toISOString(),
        maxViewers: 20,
        releaseAt: new Date(T0).toISOString(),
      });
      await producer.sendRaw(
        topic,
        [0, 1, 2].map((n) => ({ key: "77", value: JSON.stringify(req(n)), timestamp: String(T0 + n * minute) })),
      );
      const row = (n: number, outcome: "found" | "failed") => ({
        streamId: 500 + n,
        startTime: new Date(T0 + n * minute),
        streamerId: 77,
        login: "someone",
        firstSeen: new Date(T0),
        lastSeen: new Date(T0),
        outcome,
      });
      await t.db.insert(vods).values([row(0, "failed"), row(1, "found")]);
      const r = await replay(kafka, producer, {
        group: uniqueName("g"),
        topic,
        from: new Date(T0),
        to: new Date(T0 + 3 * minute),
        keep: notYetFound(t.db),
      });
      expect(r.republished).toBe(2);
      const copies = (await readTopic(kafka, topic, 5))
        .slice(3)
        .map((m) => (JSON.parse(m.value!) as { streamId: string }).streamId);
      expect(copies).toEqual(["500", "502"]);
    } finally {
      await t.drop();
    }
  });

  it("rejects bad arguments with a message that says what is wrong", () => {
    expect(() => parseReplayArgs(["--group", "g", "--topic", "t"])).toThrow(UsageError);
    expect(() => parseReplayArgs(["--group", "g", "--topic", "t", "--from", "yesterday"])).toThrow(
      /--from must be an ISO time/,
    );
    expect(() => parseReplayArgs(["--bogus"])).toThrow(/Unknown option/);
    expect(parseReplayArgs(["--group", "g", "--topic", "t", "--from", "2026-11-01T10:00:00Z", "--dry-run"])).toEqual({
      group: "g",
      topic: "t",
      from: new Date("2026-11-01T10:00:00Z"),
      dryRun: true,
    });
  });
});
