import type { z } from "zod";

/** One topic: its name, the zod schema of its JSON values, how a value is keyed, and how it is stored. */
export interface TopicDef<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  /** The partition key of a value (for stream messages: the streamer id). */
  readonly key: (value: z.output<S>) => string;
  readonly partitions: number;
  /**
   * An explicit partition for a value, instead of the key's hash: for records co-partitioned by a
   * streamer id that is not their key (the delay's state, one sweep marker per snapshot partition).
   */
  readonly partition?: (value: z.output<S>) => number | undefined;
  /** Retention in milliseconds; -1 keeps messages forever. */
  readonly retentionMs: number;
  /** Compacted topics keep the last value per key (used for state). */
  readonly compacted?: boolean;
}

export type ValueOf<T extends TopicDef> = z.output<T["schema"]>;

export function defineTopic<S extends z.ZodType>(def: TopicDef<S>): TopicDef<S> {
  return def;
}

/** Every topic has a dead-letter topic named `<topic>.dlq` holding the raw messages that failed validation. */
export const dlqName = (topic: string) => `${topic}.dlq`;

/** A message value read back outside the consumer runtime (restores, replays): parsed as JSON, then checked against the schema. */
export function parseValue<S extends z.ZodType>(schema: S, value: Buffer): z.ZodSafeParseResult<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(value.toString("utf8"));
  } catch {
    json = undefined;
  }
  return schema.safeParse(json);
}
