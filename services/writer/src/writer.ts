import type { Kafka } from "kafkajs";
import { Counter, type Registry } from "prom-client";
import {
  createCatalog,
  runConsumer,
  subscribe,
  type Message,
  type Rejection,
  type RunningConsumer,
  type TypedProducer,
} from "@vod/kafka";
import { withTransaction, type Db, type Tx } from "@vod/db";
import type { Logger } from "@vod/log";
import { consumerMetrics, watchdog } from "@vod/service";
import { writeChecks } from "./checks.ts";
import { mergeResults, mergeSnapshots } from "./merge.ts";
import { withoutTakenDown } from "./takedowns.ts";
import { upsertResults, upsertSnapshots } from "./upsert.ts";
import type { WriterEnv } from "./env.ts";

export interface WriterDeps {
  kafka: Kafka;
  producer: TypedProducer;
  db: Db;
  log: Logger;
  registry?: Registry;
  /**
   * Called once when the consumer has died (kafkajs gave up on it): nothing would be written again,
   * so the process should exit non-zero and be restarted. `healthy()` is false from that moment.
   */
  onFatal?: (reason: string) => void;
}

/**
 * Consumes snapshots and fetch results and upserts them. Each handler call is one Postgres
 * transaction; the consumer runtime commits the offsets only after it resolved, and retries
 * (with backoff, for as long as the process runs) while Postgres is away.
 */
export async function startWriter(
  env: WriterEnv,
  { kafka, producer, db, log, registry, onFatal }: WriterDeps,
): Promise<RunningConsumer> {
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const rowsWritten =
    registry &&
    new Counter({
      name: "writer_rows_changed_total",
      help: "Rows inserted or changed, by topic",
      labelNames: ["topic"],
      registers: [registry],
    });
  const rowsSkipped =
    registry &&
    new Counter({
      name: "writer_rows_skipped_total",
      help: "Rows not written, by topic and reason (takedown: the streamer asked to be left out)",
      labelNames: ["topic", "reason"],
      registers: [registry],
    });

  /** The upsert, without the rows of streamers who asked to be left out; counted once committed. */
  async function guarded<R extends { streamerId: string; login: string }>(
    rows: readonly R[],
    upsert: (tx: Tx, rows: readonly R[]) => Promise<number>,
    topic: string,
  ): Promise<void> {
    const { changed, skipped } = await withTransaction(db, async (tx) => {
      const { kept, skipped } = await withoutTakenDown(tx, rows);
      return { changed: await upsert(tx, kept), skipped };
    });
    rowsWritten?.inc({ topic }, changed);
    if (skipped > 0) rowsSkipped?.inc({ topic, reason: "takedown" }, skipped);
  }

  async function write<V, R extends { sources: number[]; streamerId: string; login: string }>(
    messages: Message<V>[],
    merge: (values: V[]) => R[],
    upsert: (tx: Tx, rows: readonly R[]) => Promise<number>,
  ): Promise<Rejection[]> {
    const rows = merge(messages.map((m) => m.value));
    const topic = messages[0]?.topic ?? "";
    try {
      await guarded(rows, upsert, topic);
      return [];
    } catch (err) {
      if (!isDataError(err)) throw err;
      log.warn({ err, topic }, "Postgres refused a value in the batch; writing row by row to isolate it");
    }
    // A value Postgres can never take must not hold the partition: reject only its messages.
    const rejections: Rejection[] = [];
    for (const row of rows) {
      try {
        await guarded([row], upsert, topic);
      } catch (err) {
        if (!isDataError(err)) throw err;
        const reason = `postgres refused the row: ${describe(err)}`;
        for (const i of row.sources) rejections.push({ offset: messages[i]!.offset, reason });
      }
    }
    return rejections;
  }

  const consumer = await runConsumer({
    kafka,
    producer,
    log,
    groupId: env.GROUP_ID,
    maxBatchSize: env.BATCH_MAX_MESSAGES,
    maxWaitMs: env.BATCH_MAX_WAIT,
    minBytes: env.BATCH_MIN_BYTES,
    maxBytesPerPartition: env.BATCH_MAX_BYTES_PER_PARTITION,
    partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENTLY,
    retry: { initialMs: env.RETRY_INITIAL, maxMs: env.RETRY_MAX },
    ...(registry ? { onBatch: consumerMetrics(registry) } : {}),
    subscriptions: [
      subscribe(catalog.streamSnapshots, {
        eachBatch: (messages) => write(messages, (v) => mergeSnapshots(v, env.MIN_VIEWERS), upsertSnapshots),
      }),
      subscribe(catalog.vodFetchResults, {
        eachBatch: (messages) => write(messages, (v) => mergeResults(v, env.MIN_VIEWERS), upsertResults),
      }),
      subscribe(
        catalog.vodChecks,
        {
          eachBatch: async (messages) => {
            // Not inside `rowsWritten?.inc(…)`: without a registry, optional chaining would skip the write.
            const changed = await writeChecks(
              db,
              messages.map((m) => m.value),
            );
            rowsWritten?.inc({ topic: catalog.vodChecks.name }, changed);
          },
        },
        { optional: true },
      ),
    ],
  });
  const watch = watchdog({ alive: consumer.healthy, what: "consumer", log, onFatal: onFatal ?? (() => undefined) });
  return {
    ...consumer,
    stop: () => {
      watch.stop();
      return consumer.stop();
    },
  };
}

function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === "string" ? e.code : typeof e.cause?.code === "string" ? e.cause.code : undefined;
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Data exceptions (22), integrity violations (23) and program limits (54, e.g. 54000 "index row size
 * exceeds maximum" for a 3 KB login): the same row will fail every time.
 */
export function isDataError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && ["22", "23", "54"].includes(code.slice(0, 2));
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return e.cause?.message ?? e.message ?? String(err);
}
