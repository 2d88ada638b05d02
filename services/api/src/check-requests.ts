import { createCatalog, createKafka, createProducer, type TypedProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { AskCheck } from "./playable.ts";

/**
 * Check requests to Kafka, through a producer made on first use: the read side starts and serves while
 * Kafka is away; a send that fails drops that one request (the next opening of the VOD asks again).
 */
export function kafkaCheckRequests(
  o: { brokers: string[]; topicPrefix: string },
  log: Logger,
): { ask: AskCheck; stop(): Promise<void> } {
  const catalog = createCatalog(o.topicPrefix);
  const kafka = createKafka({ brokers: o.brokers, clientId: "api", log });
  let producer: Promise<TypedProducer> | undefined;
  return {
    ask: async (request) => {
      producer ??= createProducer(kafka, log);
      const ready = await producer.catch((err: unknown) => {
        producer = undefined;
        throw err;
      });
      await ready.send(catalog.vodCheckRequests, [request]);
    },
    stop: async () => {
      const p = producer;
      producer = undefined;
      await (await p?.catch(() => undefined))?.disconnect();
    },
  };
}
