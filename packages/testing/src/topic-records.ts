import type { Kafka } from "kafkajs";
import { readRange } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { vodKey } from "./vods.ts";

export interface TopicRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  /** Broker timestamp, real epoch ms. */
  timestamp: number;
}

/** Everything a topic holds right now, parsed as JSON. */
export async function readAll(kafka: Kafka, topic: string, log: Logger): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  await readRange(
    { kafka, topic, groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`, from: (_p, low) => low, log },
    (messages, partition) => {
      for (const m of messages) {
        out.push({
          partition,
          offset: m.offset,
          key: m.key?.toString() ?? null,
          value: m.value === null ? null : JSON.parse(m.value.toString("utf8")),
          timestamp: Number(m.timestamp),
        });
      }
    },
  );
  return out;
}

/**
 * What a pipeline's poller saw: the VOD keys (`vodKey`) of its snapshots, and when its
 * first sweep read a page. Two pipelines whose pollers start a moment apart may differ in a VOD that
 * ended in between: only the first saw it.
 */
export async function sightings(
  kafka: Kafka,
  prefix: string,
  log: Logger,
): Promise<{ keys: Set<string>; firstAt: number }> {
  const snapshots = (await readAll(kafka, `${prefix}twitch.stream-snapshots`, log)).map(
    (r) => r.value as { streamId: string; startTime: string; observedAt: string },
  );
  return {
    keys: new Set(snapshots.map(vodKey)),
    firstAt: Math.min(...snapshots.map((s) => Date.parse(s.observedAt))),
  };
}
