import type { KafkaMessage } from "kafkajs";
import type { DeadLetter } from "./dead-letter.ts";
import type { Message } from "./subscription.ts";
import type { TopicDef } from "./topic.ts";

/** Splits fetched messages into those whose value passed the topic's schema and those bound for the DLQ. */
export function decode(
  topic: TopicDef,
  partition: number,
  messages: KafkaMessage[],
): { valid: Message<unknown>[]; invalid: DeadLetter[] } {
  const valid: Message<unknown>[] = [];
  const invalid: DeadLetter[] = [];
  for (const m of messages) {
    const base = {
      topic: topic.name,
      partition,
      offset: m.offset,
      key: m.key?.toString() ?? null,
      timestamp: Number(m.timestamp),
      headers: m.headers ?? {},
    };
    let json: unknown;
    try {
      json = m.value === null ? null : JSON.parse(m.value.toString("utf8"));
    } catch (err) {
      invalid.push({ ...base, raw: m, reason: `invalid JSON: ${(err as Error).message}` });
      continue;
    }
    const parsed = topic.schema.safeParse(json);
    if (parsed.success) valid.push({ ...base, value: parsed.data });
    else invalid.push({ ...base, raw: m, reason: formatIssues(parsed.error.issues) });
  }
  return { valid, invalid };
}

function formatIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(value)"}: ${i.message}`)
    .join("; ");
}
