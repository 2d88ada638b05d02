import { withDeadline } from "@vod/backoff";
import { encodeMessages, type Catalog, type OutgoingPart, type TypedProducer } from "@vod/kafka";
import type { DelayMetrics } from "./metrics.ts";
import { Revoked, type Owned } from "./owned.ts";

const FLUSH_SLICE = 2_000;

/**
 * Writes a partition's changed records to the state topic. With `releases`, in one transaction of the
 * partition's own producer together with them: a release and the records saying it happened (its
 * "ended" record too, when it ended in the same tick) become visible together or not at all. Without,
 * through the shared idempotent producer: a transaction per handled batch would cost each partition a
 * round trip to the coordinator and a wait for the previous transaction's markers.
 */
export class StateWriter {
  /** Records and tombstones written since start. */
  written = 0;

  constructor(
    private readonly producer: TypedProducer,
    private readonly catalog: Catalog,
    private readonly sendTimeoutMs: number,
    private readonly metrics: DelayMetrics,
  ) {}

  async flush(o: Owned, releases?: OutgoingPart): Promise<void> {
    const changes = o.tracker.changes();
    const parts: OutgoingPart[] = [];
    // Encoded in slices, yielding between them: a first sweep creates 100,000 records.
    for (let i = 0; i < changes.records.length; i += FLUSH_SLICE) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      parts.push(encodeMessages(this.catalog.delayState, changes.records.slice(i, i + FLUSH_SLICE)));
    }
    if (changes.tombstones.length > 0)
      parts.push({
        topic: this.catalog.delayState.name,
        messages: changes.tombstones.map((key) => ({ key, value: null, partition: o.partition })),
      });
    if (releases) {
      if (!o.releaser) throw new Revoked(o.partition);
      await withDeadline(o.releaser.sendParts([...parts, releases]), this.sendTimeoutMs, "release transaction");
    } else {
      for (const part of parts)
        await withDeadline(this.producer.sendRaw(part.topic, part.messages), this.sendTimeoutMs, "state records");
    }
    o.tracker.flushed(changes);
    const n = changes.records.length + changes.tombstones.length;
    this.written += n;
    this.metrics.stateRecords.inc(n);
  }
}
