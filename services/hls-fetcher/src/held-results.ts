import type { VodFetchResult } from "@vod/kafka";

/**
 * Outcomes of a batch already fetched but not yet published, so a retry of the batch after a failed
 * publish does not fetch (and spend budget) again. A batch that never comes back (its partition went to
 * another instance, or was replayed from elsewhere) must not leave its outcomes here: they are dropped
 * once the partition's next batch starts past them, and in any case after `maxAgeMs`.
 */
export class HeldResults {
  readonly #byPartition = new Map<string, Map<bigint, { result: VodFetchResult; at: number }>>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Call when a batch of `topic`/`partition` starts at `firstOffset`: what lies before it is settled. */
  batchStarts(topic: string, partition: number, firstOffset: string): void {
    const held = this.#byPartition.get(`${topic}:${partition}`);
    const first = BigInt(firstOffset);
    if (held) for (const offset of held.keys()) if (offset < first) held.delete(offset);
    const oldest = this.now() - this.maxAgeMs;
    for (const [key, entries] of this.#byPartition) {
      for (const [offset, e] of entries) if (e.at < oldest) entries.delete(offset);
      if (entries.size === 0) this.#byPartition.delete(key);
    }
  }

  get(topic: string, partition: number, offset: string): VodFetchResult | undefined {
    return this.#byPartition.get(`${topic}:${partition}`)?.get(BigInt(offset))?.result;
  }

  set(topic: string, partition: number, offset: string, result: VodFetchResult): void {
    const key = `${topic}:${partition}`;
    let entries = this.#byPartition.get(key);
    if (!entries) this.#byPartition.set(key, (entries = new Map()));
    entries.set(BigInt(offset), { result, at: this.now() });
  }

  delete(topic: string, partition: number, offset: string): void {
    const key = `${topic}:${partition}`;
    const entries = this.#byPartition.get(key);
    entries?.delete(BigInt(offset));
    if (entries?.size === 0) this.#byPartition.delete(key);
  }

  get size(): number {
    let n = 0;
    for (const entries of this.#byPartition.values()) n += entries.size;
    return n;
  }
}
