import type { EachBatchPayload } from "kafkajs";
import type { Logger } from "@vod/log";
import type { BatchReport } from "./consumer.ts";
import { toDeadLetter, type DeadLetter } from "./dead-letter.ts";
import { decode } from "./decode.ts";
import { commitBefore, commitChunk } from "./offsets.ts";
import { Abandoned, retrying, type RetrySettings } from "./retry.ts";
import { PermanentError, type HandlerContext, type Message, type Subscription } from "./subscription.ts";

export interface DispatchDeps {
  byTopic: ReadonlyMap<string, Subscription>;
  /** Largest number of messages handed to one handler call; offsets are committed after each. */
  maxBatchSize: number;
  /** The group's logger. */
  log: Logger;
  retry: RetrySettings;
  deadLetter: (letters: DeadLetter[]) => Promise<void>;
  onBatch?: (report: BatchReport) => void;
}

type Attempt = <R>(work: () => Promise<R>) => Promise<R>;

/**
 * kafkajs's `eachBatch`: the fetched batch in chunks of `maxBatchSize`, each decoded, its invalid
 * messages dead-lettered, handed to the topic's handler and committed, in that order. A chunk
 * abandoned on shutdown ends the batch uncommitted (it will be redelivered).
 */
export function batchHandler(deps: DispatchDeps): (payload: EachBatchPayload) => Promise<void> {
  return (payload) => handleBatch(deps, payload);
}

async function handleBatch(deps: DispatchDeps, payload: EachBatchPayload): Promise<void> {
  const { maxBatchSize, onBatch } = deps;
  const { batch, isRunning, isStale } = payload;
  const sub = deps.byTopic.get(batch.topic);
  if (!sub) throw new Error(`no handler for topic ${batch.topic}`);
  const partLog = deps.log.child({ topic: batch.topic, partition: batch.partition });
  for (let i = 0; i < batch.messages.length; i += maxBatchSize) {
    if (!isRunning() || isStale()) return;
    const chunk = batch.messages.slice(i, i + maxBatchSize);
    const started = Date.now();
    const report = { topic: batch.topic, partition: batch.partition, size: chunk.length, invalid: 0, attempts: 0 };
    try {
      const { valid, invalid } = decode(sub.topic, batch.partition, chunk);
      report.invalid = invalid.length;
      const stillRunning = () => isRunning() && !isStale();
      const attempt = retrying(deps.retry, { log: partLog, stillRunning, payload, report });
      await attempt(() => deps.deadLetter(invalid));
      await handleChunk(deps, sub, valid, payload, partLog, attempt);
      const last = await commitChunk(payload, chunk, i + maxBatchSize >= batch.messages.length);
      const lag = Number(BigInt(batch.highWatermark) - BigInt(last) - 1n);
      onBatch?.({ ...report, durationMs: Date.now() - started, outcome: "committed", lag });
    } catch (err) {
      if (err instanceof Abandoned) {
        partLog.warn({ size: chunk.length }, "batch abandoned on shutdown; it will be redelivered");
        onBatch?.({
          ...report,
          durationMs: Date.now() - started,
          outcome: "abandoned",
          lag: Number(BigInt(batch.highWatermark) - BigInt(chunk[0]!.offset)),
        });
        return;
      }
      throw err;
    }
  }
}

/**
 * Hands a chunk's valid messages to the subscription's handler: all at once to `eachBatch` (its
 * rejections go to the DLQ), or one by one to `eachMessage` (a PermanentError sends that message
 * to the DLQ).
 */
async function handleChunk(
  deps: DispatchDeps,
  sub: Subscription,
  valid: Message<unknown>[],
  payload: EachBatchPayload,
  partLog: Logger,
  attempt: Attempt,
): Promise<void> {
  const ctx: HandlerContext = { signal: deps.retry.stopping, log: partLog, heartbeat: payload.heartbeat };
  if (sub.eachBatch) {
    if (valid.length === 0) return;
    const handler = sub.eachBatch;
    const rejected = await attempt(() => handler(valid, ctx));
    if (rejected && rejected.length > 0) {
      const byOffset = new Map(rejected.map((r) => [r.offset, r.reason]));
      const rejects = valid.filter((m) => byOffset.has(m.offset)).map((m) => toDeadLetter(m, byOffset.get(m.offset)!));
      await attempt(() => deps.deadLetter(rejects));
    }
    return;
  }
  const handler = sub.eachMessage!;
  for (const message of valid) {
    try {
      await attempt(() => handler(message, ctx));
    } catch (err) {
      if (!(err instanceof PermanentError)) {
        // Keep what is done: commit up to the message before the one we stop at.
        if (err instanceof Abandoned) await commitBefore(payload, message.offset, deps.log);
        throw err;
      }
      partLog.warn({ offset: message.offset, err: err.message }, "message rejected by handler; sent to DLQ");
      await attempt(() => deps.deadLetter([toDeadLetter(message, err.message)]));
    }
    payload.resolveOffset(message.offset);
  }
}
