import type { Kafka } from "kafkajs";
import { parseValue, readRange, sweepCursors, type Catalog, type TypedProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import type { PageMark } from "./shards.ts";

/** Records read back at start: the compacted topic holds one per shard, plus what is not compacted yet. */
const READ_BACK = 500n;

/**
 * Saves where each shard's pages began and whom it published, so a restarted poller's first sweep
 * is cut into segments like any other instead of paging each shard as one chain (about 4 minutes
 * instead of 1.5 at Twitch's size) and looks up the streamers its pages miss. One record per shard,
 * keyed by shard, in a compacted topic (the largest, English, about 160 KB at Twitch's size).
 */
export async function saveCursors(
  producer: TypedProducer,
  catalog: Catalog,
  sweepId: string,
  savedAt: number,
  pages: ReadonlyMap<string, readonly PageMark[]>,
  published: ReadonlyMap<string, string>,
): Promise<void> {
  const byShard = new Map<string, string[]>();
  for (const [streamer, shard] of published) {
    const list = byShard.get(shard) ?? [];
    list.push(streamer);
    byShard.set(shard, list);
  }
  const records = [...pages]
    .filter(([, marks]) => marks.length > 0)
    .map(([shard, marks]) => ({
      v: 1 as const,
      shard,
      sweepId,
      savedAt: new Date(savedAt).toISOString(),
      marks: [...marks],
      published: byShard.get(shard) ?? [],
    }));
  if (records.length > 0) await producer.send(catalog.sweepCursors, records);
}

export interface SavedSweep {
  pages: Map<string, PageMark[]>;
  /** Streamers the saved sweep published, all shards together. */
  published: Set<string>;
}

/**
 * The last saved pages per shard, if saved within `maxAgeMs` of `now`. Cursors are positions in the
 * viewer-ordered list: older ones still answer, but the list they cut has changed shape. A cursor
 * that no longer answers costs only its segment (the segment before it reads on).
 */
export async function loadCursors(
  kafka: Kafka,
  catalog: Catalog,
  groupId: string,
  now: number,
  maxAgeMs: number,
  log: Logger,
): Promise<SavedSweep> {
  const latest = new Map<string, { at: number; marks: PageMark[]; published: string[] }>();
  await readRange(
    {
      kafka,
      topic: catalog.sweepCursors.name,
      groupId,
      from: (_p, low, high) => (high - READ_BACK > low ? high - READ_BACK : low),
      log,
      timeoutMs: 30_000,
    },
    (messages) => {
      for (const m of messages) {
        if (m.value === null) continue;
        const parsed = parseValue(sweepCursors, m.value);
        if (!parsed.success) {
          log.warn({ key: m.key?.toString(), err: parsed.error.message }, "unreadable saved cursors ignored");
          continue;
        }
        const at = Date.parse(parsed.data.savedAt);
        const known = latest.get(parsed.data.shard);
        if (!known || at >= known.at)
          latest.set(parsed.data.shard, { at, marks: parsed.data.marks, published: parsed.data.published ?? [] });
      }
    },
  );
  const saved: SavedSweep = { pages: new Map(), published: new Set() };
  for (const [shard, { at, marks, published }] of latest) {
    if (now - at > maxAgeMs) continue;
    saved.pages.set(shard, marks);
    for (const id of published) saved.published.add(id);
  }
  return saved;
}
