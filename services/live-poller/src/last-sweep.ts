import type { Catalog, TypedProducer } from "@vod/kafka";
import { saveCursors, type SavedSweep } from "./cursors.ts";
import { planShards, type PageMark, type PlanOptions, type Shard, type ShardPlan } from "./shards.ts";
import type { SweepResult } from "./sweep.ts";

/**
 * What the next sweep starts from: where each shard's pages began, to cut it into segments, and whom
 * the last sweep published, to look up those its pages miss. At start, what the sweep before the
 * restart saved.
 */
export class LastSweep {
  /** Pages of the last sweep per shard: where to cut the next one into segments. */
  readonly #pages: Map<string, PageMark[]>;
  /** Streamers the last sweep published: the next one looks up those its pages miss. */
  #published: ReadonlySet<string> | undefined;

  constructor(saved?: SavedSweep) {
    this.#pages = new Map(saved?.pages ?? []);
    this.#published = saved && saved.published.size > 0 ? saved.published : undefined;
  }

  /** Undefined until a sweep ran (or one was saved before the restart). */
  get published(): ReadonlySet<string> | undefined {
    return this.#published;
  }

  plan(shards: readonly Shard[], options: PlanOptions): ShardPlan[] {
    return planShards(shards, this.#pages, options);
  }

  remember(result: SweepResult): void {
    // An incomplete sweep published only part of what is live: keep looking up the last one's streamers too.
    const published = new Set(result.published.keys());
    if (!result.marker.complete && this.#published) for (const id of this.#published) published.add(id);
    this.#published = published;
    // A shard that read nothing this time keeps its older cursors.
    for (const s of result.shards) if (s.marks.length > 0) this.#pages.set(s.name, s.marks);
  }

  /** Saves the pages to cut the first sweep after a restart at, with whom sweep `sweepId` published. */
  save(
    producer: TypedProducer,
    catalog: Catalog,
    sweepId: string,
    savedAt: number,
    published: ReadonlyMap<string, string>,
  ): Promise<void> {
    return saveCursors(producer, catalog, sweepId, savedAt, this.#pages, published);
  }
}
