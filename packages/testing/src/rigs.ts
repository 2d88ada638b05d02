// Per-file setup registered as vitest hooks. What they make exists only once the hooks have run, so a
// file gets stand-ins that forward to it: usable in its tests and hooks, an error (naming it) before.
import { afterAll, beforeAll } from "vitest";
import type { Kafka } from "kafkajs";
import { createProducer, type TypedProducer } from "@vod/kafka";
import { freshDatabase, type TestDatabase } from "./database.ts";
import { testKafka, testLog } from "./kafka.ts";

/** A stand-in for what a beforeAll hook makes: it forwards to `get()` once that is set, and names `what` before. */
export function late<T extends object>(what: string, get: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_, key) {
      const target = get();
      if (target === undefined) throw new Error(`${what} is made in beforeAll: use it in tests and hooks`);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A fresh database for the file, dropped after it. */
export function useDatabase(): TestDatabase {
  let t: TestDatabase | undefined;
  beforeAll(async () => {
    t = await freshDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });
  return late("the file's database", () => t);
}

/** A broker client and a producer connected for the file. */
export function useProducer(): { kafka: Kafka; producer: TypedProducer } {
  const kafka = testKafka();
  let producer: TypedProducer | undefined;
  beforeAll(async () => {
    producer = await createProducer(kafka, testLog);
  });
  afterAll(async () => {
    await producer?.disconnect();
  });
  return { kafka, producer: late("the file's producer", () => producer) };
}

/** A broker client, a connected producer and a fresh database for the file. */
export function useKafkaAndDatabase(): { kafka: Kafka; producer: TypedProducer; t: TestDatabase } {
  return { ...useProducer(), t: useDatabase() };
}

/** Fresh databases on demand, each dropped after the file. */
export function useDatabases(): () => Promise<TestDatabase> {
  const made: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of made) await d.drop();
  });
  return async () => {
    const d = await freshDatabase();
    made.push(d);
    return d;
  };
}
