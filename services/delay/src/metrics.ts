import { Counter, Gauge, type Registry } from "prom-client";
import type { Owned } from "./owned.ts";
import { Tracker, type TrackerOptions } from "./tracker.ts";

export type DelayMetrics = ReturnType<typeof createDelayMetrics>;

export function createDelayMetrics(registry: Registry) {
  return {
    released: new Counter({ name: "delay_releases_total", help: "Fetch requests published", registers: [registry] }),
    reconciled: new Counter({
      name: "delay_releases_recovered_total",
      help: "Releases found already sent at restore (a crash or a handover came between send and state)",
      registers: [registry],
    }),
    lateness: new Gauge({
      name: "delay_last_release_lateness_seconds",
      help: "Clock seconds between release time and publication, last batch",
      registers: [registry],
    }),
    tracked: new Gauge({
      name: "delay_vods",
      help: "Tracked VODs by status",
      labelNames: ["status"],
      registers: [registry],
    }),
    oldestWaiting: new Gauge({
      name: "delay_oldest_waiting_seconds",
      help: "Clock seconds since the oldest ended, unreleased VOD ended",
      registers: [registry],
    }),
    events: new Gauge({
      name: "delay_events",
      help: "Tracker counters of the owned partitions (stale, revived, ended, sweeps)",
      labelNames: ["event"],
      registers: [registry],
    }),
    stateRecords: new Counter({
      name: "delay_state_records_total",
      help: "Records and tombstones written to the state topic",
      registers: [registry],
    }),
    partitions: new Gauge({
      name: "delay_partitions",
      help: "Snapshot partitions owned by this instance, by state",
      labelNames: ["state"],
      registers: [registry],
    }),
    restores: new Counter({
      name: "delay_partition_restores_total",
      help: "Partitions whose state was restored (at start and after each rebalance that moved them here)",
      registers: [registry],
    }),
  };
}

/** Tracker counters summed over trackers (one per owned partition). */
export function sumCounters(trackers: Iterable<Tracker>, options: TrackerOptions): Tracker["counters"] {
  const sum = { ...new Tracker(options).counters };
  for (const t of trackers) for (const [k, n] of Object.entries(t.counters)) sum[k as keyof typeof sum] += n;
  return sum;
}

/** The gauges, from the partitions owned now. */
export function updateGauges(
  metrics: DelayMetrics,
  owned: Iterable<Owned>,
  now: number,
  options: TrackerOptions,
): void {
  const all = [...owned];
  const by = { live: 0, ended: 0, released: 0 };
  let oldestEnd = Infinity;
  for (const o of all) {
    by.released += o.tracker.releasedCount;
    for (const v of o.tracker.vods.values()) {
      by[v.status]++;
      if (v.status === "ended" && v.endedAt) oldestEnd = Math.min(oldestEnd, Date.parse(v.endedAt));
    }
  }
  metrics.oldestWaiting.set(Number.isFinite(oldestEnd) ? Math.max(0, (now - oldestEnd) / 1000) : 0);
  for (const [status, n] of Object.entries(by)) metrics.tracked.set({ status }, n);
  for (const [event, n] of Object.entries(
    sumCounters(
      all.map((o) => o.tracker),
      options,
    ),
  ))
    metrics.events.set({ event }, n);
  const restored = all.filter((o) => o.restored).length;
  metrics.partitions.set({ state: "restored" }, restored);
  metrics.partitions.set({ state: "restoring" }, all.length - restored);
}
