// A consumer process for the shutdown test: each message costs 20 ms and is appended (fsynced) to OUT.
import { appendFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { z } from "zod";
import { parseEnv } from "@vod/config";
import { createLogger } from "@vod/log";
import { onShutdown } from "@vod/service";
import { sleep } from "@vod/backoff";
import { createKafka, createProducer, defineTopic, runConsumer, subscribe } from "../index.ts";

const env = parseEnv(
  z.object({
    KAFKA_BROKERS: z.string(),
    TOPIC: z.string(),
    GROUP: z.string(),
    OUT: z.string(),
    LOG_LEVEL: z.string().default("warn"),
  }),
);
const log = createLogger({ service: "slow-consumer", level: env.LOG_LEVEL });
const topic = defineTopic({
  name: env.TOPIC,
  schema: z.object({ n: z.number() }),
  key: (v) => String(v.n),
  partitions: 1,
  retentionMs: -1,
});
const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(","), clientId: "slow-consumer", log });
const producer = await createProducer(kafka, log);
const shutdown = onShutdown({ log, timeoutMs: 20_000 });

const consumer = await runConsumer({
  kafka,
  producer,
  groupId: env.GROUP,
  log,
  maxBatchSize: 50,
  subscriptions: [
    subscribe(topic, {
      eachBatch: async (messages) => {
        for (const m of messages) {
          await sleep(20);
          const fd = openSync(env.OUT, "a");
          appendFileSync(fd, `${m.value.n}\n`);
          fsyncSync(fd);
          closeSync(fd);
        }
      },
    }),
  ],
});
shutdown.add("consumer", () => consumer.stop());
shutdown.add("producer", () => producer.disconnect());
appendFileSync(env.OUT + ".ready", "ready\n");
