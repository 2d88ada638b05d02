import type { KafkaMessage } from "kafkajs";
import type { Logger } from "@vod/log";
import type { TypedProducer } from "./producer.ts";
import type { Message } from "./subscription.ts";
import { dlqName } from "./topic.ts";

/** A message on its way to its topic's DLQ: the bytes as they came, and why it can never succeed. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  raw: Pick<KafkaMessage, "key" | "value" | "headers">;
  reason: string;
}

/** A decoded message a handler rejected, turned back into bytes for the DLQ. */
export function toDeadLetter(m: Message<unknown>, reason: string): DeadLetter {
  return {
    ...m,
    raw: {
      key: m.key === null ? null : Buffer.from(m.key),
      value: Buffer.from(JSON.stringify(m.value)),
      headers: m.headers,
    },
    reason,
  };
}

export interface DeadLetterTarget {
  /** Used for dead-lettering; the runner never disconnects it. */
  producer: TypedProducer;
  groupId: string;
  /** The group's logger. */
  log: Logger;
}

/**
 * Sends `letters` to the DLQ of the topic each came from, with headers saying why, where from and
 * which group gave up on it.
 */
export async function sendDeadLetters(to: DeadLetterTarget, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const byTopicName = new Map<string, DeadLetter[]>();
  for (const l of letters) byTopicName.set(l.topic, [...(byTopicName.get(l.topic) ?? []), l]);
  for (const [topic, list] of byTopicName) {
    to.log.warn(
      { topic, count: list.length, reasons: list.slice(0, 3).map((l) => l.reason) },
      "invalid messages sent to DLQ",
    );
    await to.producer.sendRaw(
      dlqName(topic),
      list.map((l) => ({
        key: l.raw.key ?? null,
        value: l.raw.value ?? null,
        headers: {
          ...(l.raw.headers ?? {}),
          "dlq-reason": l.reason,
          "dlq-topic": l.topic,
          "dlq-partition": String(l.partition),
          "dlq-offset": l.offset,
          "dlq-group": to.groupId,
          "dlq-at": new Date().toISOString(),
        },
      })),
    );
  }
}
