import type { IHeaders } from "kafkajs";
import type { Logger } from "@vod/log";
import type { TopicDef, ValueOf } from "./topic.ts";

/** A message whose value passed its topic's schema. */
export interface Message<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** Broker timestamp in epoch milliseconds. */
  timestamp: number;
  headers: IHeaders;
}

export interface HandlerContext {
  /** Fires when the consumer is stopping; long work should give up and let the batch be redelivered. */
  signal: AbortSignal;
  log: Logger;
  heartbeat(): Promise<void>;
}

/** Thrown by a handler for a message that can never succeed: it goes to the DLQ instead of being retried. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** What a batch handler hands back for messages that can never succeed (they go to the DLQ). */
export interface Rejection {
  offset: string;
  reason: string;
}

type BatchHandler<T> = (messages: Message<T>[], ctx: HandlerContext) => Promise<void | Rejection[]>;
type MessageHandler<T> = (message: Message<T>, ctx: HandlerContext) => Promise<void>;

export type Subscription = {
  topic: TopicDef;
  eachBatch?: BatchHandler<unknown>;
  eachMessage?: MessageHandler<unknown>;
  /**
   * The consumer starts without this topic when it does not exist (with a warning), instead of failing:
   * for a feature added later, so a deployment whose topics predate it keeps doing its main work.
   */
  optional?: boolean;
};

/** Pairs a topic with its handler, keeping the value type of the handler tied to the topic's schema. */
export function subscribe<T extends TopicDef>(
  topic: T,
  handler: { eachBatch: BatchHandler<ValueOf<T>> } | { eachMessage: MessageHandler<ValueOf<T>> },
  options: { optional?: boolean } = {},
): Subscription {
  return { topic, ...handler, ...options } as Subscription;
}
