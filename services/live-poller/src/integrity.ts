import type { SweepMarker } from "@vod/kafka";
import type { ShardOutcome } from "./outcome.ts";

export interface IntegrityOptions {
  /** A complete sweep (or shard) counting fewer than this share of the median of recent complete ones is not complete. */
  minRatio: number;
  /** How many recent complete sweeps the median is taken over. */
  history: number;
  /** Below this median (streams) a count is too small to judge by its ratio: small worlds swing by half. */
  minMedian: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * Second opinion on a sweep that read every page without an error: an answer can be wrong without
 * failing (a resolver answering `edges: []`). An empty sweep, or one (or one shard) far below the
 * recent complete sweeps, is marked incomplete with the reason, and is not remembered as a baseline.
 */
export class SweepHistory {
  readonly #totals: number[] = [];
  readonly #shards = new Map<string, number[]>();

  constructor(private readonly options: IntegrityOptions) {}

  judge(marker: SweepMarker, shards: readonly ShardOutcome[], trackMinViewers: number): SweepMarker {
    if (!marker.complete) return marker;
    const reason = this.#doubt(marker, shards, trackMinViewers);
    if (reason !== null) return { ...marker, complete: false, reason };
    this.#remember(this.#totals, marker.count);
    for (const s of shards) {
      let counts = this.#shards.get(s.name);
      if (!counts) this.#shards.set(s.name, (counts = []));
      this.#remember(counts, s.count);
    }
    return marker;
  }

  #doubt(marker: SweepMarker, shards: readonly ShardOutcome[], trackMinViewers: number): string | null {
    const { minRatio, history } = this.options;
    if (marker.count === 0) return `empty sweep: no stream at or above ${trackMinViewers} viewers`;
    if (this.#totals.length > 0) {
      const m = median(this.#totals);
      if (m >= this.options.minMedian && marker.count < minRatio * m)
        return `count ${marker.count} is below ${minRatio} of the median ${m} of the last ${this.#totals.length} complete sweeps`;
    }
    for (const s of shards) {
      const counts = this.#shards.get(s.name);
      if (!counts || counts.length === 0) continue;
      const m = median(counts);
      if (m >= this.options.minMedian && s.count < minRatio * m) {
        return `shard ${s.name}: count ${s.count} is below ${minRatio} of its median ${m} over the last ${Math.min(counts.length, history)} complete sweeps`;
      }
    }
    return null;
  }

  #remember(list: number[], value: number): void {
    list.push(value);
    if (list.length > this.options.history) list.shift();
  }
}
