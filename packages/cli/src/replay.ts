import type { Kafka } from "kafkajs";
import { readRange, type TypedProducer } from "@vod/kafka";
import { CommandError } from "./errors.ts";
import { offsetsAt, readerGroup } from "./topic-offsets.ts";

export interface ReplayOptions {
  group: string;
  topic: string;
  from: Date;
  /** With an end, only the window [from, to) is replayed; the group's offsets stay where they are. */
  to?: Date;
  dryRun?: boolean;
  /** Window mode: which of a chunk of messages to re-publish (say, only VODs not archived yet); default all. */
  keep?: (values: (Buffer | null)[]) => Promise<boolean[]>;
}

export interface PartitionPlan {
  partition: number;
  /** Where the group is now (-1: nothing committed). */
  current: string;
  /** The first offset at or after `from` (the end of the partition when nothing is that recent). */
  target: string;
  /** With `to`: the first offset at or after `to`; the window is [target, end). */
  end?: string;
}

export interface ReplayResult {
  mode: "reset" | "window";
  applied: boolean;
  partitions: PartitionPlan[];
  /** Messages re-published in window mode. */
  republished: number;
}

export class ReplayRefused extends CommandError {
  override name = "ReplayRefused";
}

/**
 * Replays a window of a topic for one consumer group. Without `to`: moves the group's offsets back
 * to the first message at or after `from` (the group must have no running members), so it handles
 * everything since again. With `to`: re-publishes the messages of [from, to) to the topic, marked
 * with replay headers, so the group handles exactly that window again while it keeps running.
 * Either way the stages' idempotent effects make a replay safe.
 */
export async function replay(
  kafka: Kafka,
  producer: TypedProducer | undefined,
  opts: ReplayOptions,
): Promise<ReplayResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(opts.topic)) throw new ReplayRefused(`topic ${opts.topic} does not exist`);
    const starts = await offsetsAt(admin, opts.topic, opts.from);
    const ends = opts.to ? await offsetsAt(admin, opts.topic, opts.to) : undefined;
    const [committed] = await admin.fetchOffsets({ groupId: opts.group, topics: [opts.topic] });
    const current = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    const partitions: PartitionPlan[] = [...starts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, at]) => {
        const now = current.get(partition) ?? "-1";
        // A replay only moves back: a group still behind `from` keeps its offset, or it would skip what it never handled.
        const target = !ends && now !== "-1" && BigInt(now) < BigInt(at) ? now : at;
        return { partition, current: now, target, ...(ends ? { end: ends.get(partition) ?? at } : {}) };
      });

    if (opts.to) {
      if (opts.to <= opts.from) throw new ReplayRefused("--to must be after --from");
      if (opts.dryRun || !producer) return { mode: "window", applied: false, partitions, republished: 0 };
      const republished = await republishWindow(kafka, producer, opts, partitions);
      return { mode: "window", applied: true, partitions, republished };
    }

    const { groups } = await admin.describeGroups([opts.group]);
    const members = groups[0]?.members ?? [];
    if (members.length > 0) {
      const who = members.map((m) => `${m.clientId}@${m.clientHost}`).join(", ");
      throw new ReplayRefused(
        `group ${opts.group} has ${members.length} running member(s) (${who}); stop them first, or pass --to to replay a window while it runs`,
      );
    }
    if (!opts.dryRun) {
      await admin.setOffsets({
        groupId: opts.group,
        topic: opts.topic,
        partitions: partitions.map((p) => ({ partition: p.partition, offset: p.target })),
      });
    }
    return { mode: "reset", applied: !opts.dryRun, partitions, republished: 0 };
  } finally {
    await admin.disconnect();
  }
}

async function republishWindow(
  kafka: Kafka,
  producer: TypedProducer,
  opts: ReplayOptions,
  plan: PartitionPlan[],
): Promise<number> {
  let count = 0;
  const byPartition = new Map(plan.map((p) => [p.partition, p]));
  const range = {
    from: (partition: number, _low: bigint, high: bigint) => BigInt(byPartition.get(partition)?.target ?? high),
    to: (partition: number, _low: bigint, high: bigint) => BigInt(byPartition.get(partition)?.end ?? high),
  };
  await readRange({ kafka, topic: opts.topic, groupId: readerGroup(opts.topic), ...range }, async (all, partition) => {
    const kept = opts.keep ? await opts.keep(all.map((m) => m.value)) : all.map(() => true);
    const messages = all.filter((_, i) => kept[i]);
    if (messages.length === 0) return;
    await producer.sendRaw(
      opts.topic,
      messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: {
          ...(m.headers ?? {}),
          "replay-of": `${partition}/${m.offset}`,
          "replay-at": new Date().toISOString(),
        },
      })),
    );
    count += messages.length;
  });
  return count;
}
