import { describe, expect, inject, it, onTestFinished } from "vitest";
import { z } from "zod";
import { defineTopic } from "@vod/kafka";
import { deleteRunTopics } from "./cleanup.ts";
import { createTestTopics, testKafka } from "./kafka.ts";
import { newRunToken, uniqueName } from "./names.ts";

const kafka = testKafka("cleanup-test");

const topic = (name: string) =>
  defineTopic({ name, schema: z.object({}), key: () => "k", partitions: 1, retentionMs: 60_000 });

describe("a test run's topics", () => {
  it("are named with the run's token", () => {
    expect(inject("testRun")).toMatch(/^vt[0-9a-f]{8}$/);
    expect(uniqueName("t")).toContain(`-${inject("testRun")}-`);
  });

  it("are deleted with their groups at the end of the run, and no other run's are", async () => {
    // Two runs of their own, so the cleanup cannot reach the topics of the files running beside this one.
    const mine = newRunToken();
    const other = newRunToken();
    const ours = [`a-${mine}-1-0001`, `b-${mine}-1-0002`];
    const theirs = `a-${other}-1-0003`;
    onTestFinished(async () => {
      for (const run of [mine, other]) await deleteRunTopics(inject("kafkaBrokers"), run);
    });
    await createTestTopics(kafka, [...ours, theirs].map(topic));
    const admin = kafka.admin();
    await admin.connect();
    // A group with committed offsets and no member, as a test's consumer leaves it.
    await admin.setOffsets({
      groupId: `g-${mine}-1-0004`,
      topic: ours[0]!,
      partitions: [{ partition: 0, offset: "0" }],
    });

    // Each topic comes with its DLQ, which goes too.
    await admin.disconnect();
    expect(await deleteRunTopics(inject("kafkaBrokers"), mine)).toEqual({ topics: 4, groups: 1 });

    // A new client: one that named a deleted topic keeps asking for its metadata.
    const after = kafka.admin();
    await after.connect();
    onTestFinished(() => after.disconnect());
    const left = await after.listTopics();
    for (const t of ours) expect(left.filter((l) => l.startsWith(t))).toEqual([]);
    expect(left).toContain(theirs);
    expect((await after.listGroups()).groups.map((g) => g.groupId)).not.toContain(`g-${mine}-1-0004`);
  });
});
