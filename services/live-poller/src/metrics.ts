import { Counter, Histogram, type Registry } from "prom-client";

export type PollerMetrics = ReturnType<typeof createPollerMetrics>;

/** The poller's counters and histogram, registered in `registry`. */
export function createPollerMetrics(registry: Registry) {
  return {
    sweeps: new Counter({
      name: "poller_sweeps_total",
      help: "Sweeps by outcome",
      labelNames: ["complete"],
      registers: [registry],
    }),
    snapshots: new Counter({ name: "poller_snapshots_total", help: "Snapshots published", registers: [registry] }),
    dropped: new Counter({
      name: "poller_streams_dropped_total",
      help: "Streams dropped from GQL answers as invalid",
      registers: [registry],
    }),
    pages: new Counter({ name: "poller_pages_total", help: "Pages of live streams read", registers: [registry] }),
    recheck: new Counter({
      name: "poller_recheck_streamers_total",
      help: "Streamers of the last sweep the pages missed, looked up by id, by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    stepBacks: new Counter({
      name: "poller_step_backs_total",
      help: "Times a segment read back because the list was re-sorted under it",
      registers: [registry],
    }),
    retries: new Counter({
      name: "poller_gql_retries_total",
      help: "GQL requests retried, by kind of failure",
      labelNames: ["kind"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "poller_sweep_duration_seconds",
      help: "Real seconds per sweep",
      buckets: [0.1, 1, 5, 30, 60, 180, 300],
      registers: [registry],
    }),
    posts: new Counter({
      name: "poller_gql_posts_total",
      help: "POSTs to GQL (each carries up to GQL_BATCH pages)",
      registers: [registry],
    }),
  };
}
