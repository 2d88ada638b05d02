import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface BatchReportLike {
  topic: string;
  partition: number;
  lag: number;
  size: number;
  invalid: number;
  durationMs: number;
  outcome: "committed" | "abandoned";
}

/** Metrics fed by the consumer runtime's onBatch hook: messages handled and failed per topic, lag, batch sizes and durations. */
export function consumerMetrics(registry: Registry): (report: BatchReportLike) => void {
  const handled = new Counter({
    name: "vod_messages_handled_total",
    help: "Messages handled and committed, by topic",
    labelNames: ["topic"],
    registers: [registry],
  });
  const invalid = new Counter({
    name: "vod_messages_invalid_total",
    help: "Messages sent to the DLQ, by topic",
    labelNames: ["topic"],
    registers: [registry],
  });
  const abandoned = new Counter({
    name: "vod_batches_abandoned_total",
    help: "Batches abandoned on shutdown (redelivered later), by topic",
    labelNames: ["topic"],
    registers: [registry],
  });
  const size = new Histogram({
    name: "vod_batch_size",
    help: "Messages per handled batch",
    labelNames: ["topic"],
    buckets: [1, 10, 50, 100, 500, 1000, 5000],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "vod_batch_duration_seconds",
    help: "Time to handle and commit a batch",
    labelNames: ["topic"],
    buckets: [0.005, 0.02, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const lag = new Gauge({
    name: "vod_consumer_lag",
    help: "Messages behind the partition's end after the last batch",
    labelNames: ["topic", "partition"],
    registers: [registry],
  });
  return (r) => {
    lag.set({ topic: r.topic, partition: String(r.partition) }, r.lag);
    if (r.outcome === "abandoned") {
      abandoned.inc({ topic: r.topic });
      return;
    }
    handled.inc({ topic: r.topic }, r.size - r.invalid);
    if (r.invalid > 0) invalid.inc({ topic: r.topic }, r.invalid);
    size.observe({ topic: r.topic }, r.size);
    duration.observe({ topic: r.topic }, r.durationMs / 1000);
  };
}
