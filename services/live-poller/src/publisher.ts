import {
  snapshotsPerPartition,
  STREAM_PARTITIONS,
  sweepMarkers,
  type Catalog,
  type StreamSnapshot,
  type SweepMarker,
  type TypedProducer,
} from "@vod/kafka";
import type { PollerMetrics } from "./metrics.ts";

/** Snapshots or a marker Kafka acknowledged. */
export type Published = { snapshots: StreamSnapshot[] } | { marker: SweepMarker };

export interface PublisherDeps {
  producer: TypedProducer;
  catalog: Catalog;
  metrics: PollerMetrics;
  onPublished?(event: Published): void;
}

/** Publishes one sweep: its snapshots as it reads them, then its marker. */
export class SweepPublisher {
  /** Snapshots of this sweep published to each partition of the snapshots topic. */
  readonly #perPartition = new Array<number>(STREAM_PARTITIONS).fill(0);

  constructor(private readonly deps: PublisherDeps) {}

  async snapshots(snapshots: StreamSnapshot[]): Promise<void> {
    const { producer, catalog, metrics } = this.deps;
    await producer.send(catalog.streamSnapshots, snapshots);
    snapshotsPerPartition(snapshots).forEach((n, p) => (this.#perPartition[p]! += n));
    metrics.snapshots.inc(snapshots.length);
    this.deps.onPublished?.({ snapshots });
  }

  async marker(marker: SweepMarker): Promise<void> {
    const { producer, catalog, metrics } = this.deps;
    // One marker per snapshot partition, on that partition of the sweeps topic: the delay instance
    // owning a partition learns how many of the sweep's snapshots it must have handled there.
    await producer.send(catalog.sweeps, sweepMarkers(marker, this.#perPartition));
    this.deps.onPublished?.({ marker });
    metrics.sweeps.inc({ complete: String(marker.complete) });
  }
}
