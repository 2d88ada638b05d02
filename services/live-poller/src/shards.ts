import { LANGUAGES, isLanguage } from "@vod/twitch";

/** One cursor chain's filter: the broadcasters of these languages (values of the Language enum). */
export interface Shard {
  name: string;
  languages: string[];
}

/**
 * Shards from configuration: comma-separated groups, `+` joining languages into one shard
 * ("EN,ES,PT+IT"). Every Language value named nowhere goes into one more shard, `rest`, so the
 * shards always partition the Language enum, whatever the configuration says.
 */
export function parseShards(spec: string): Shard[] {
  const shards: Shard[] = [];
  const taken = new Set<string>();
  for (const group of spec
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g.length > 0)) {
    const languages = group.split("+").map((l) => l.trim().toUpperCase());
    for (const l of languages) {
      if (!isLanguage(l)) throw new Error(`"${l}" is not a value of Twitch's Language enum (${LANGUAGES.join(", ")})`);
      if (taken.has(l)) throw new Error(`language ${l} is in two shards`);
      taken.add(l);
    }
    shards.push({ name: languages.join("+"), languages });
  }
  const rest = LANGUAGES.filter((l) => !taken.has(l));
  if (rest.length > 0) shards.push({ name: "rest", languages: rest });
  return shards;
}

/** A page read in the last sweep: the cursor it was read from and its most viewers. */
export interface PageMark {
  after: string | null;
  top: number;
}

/** How to page one shard: segment 0 from the top, each other one from a cursor saved in the last sweep. */
export interface ShardPlan {
  shard: Shard;
  starts: (string | null)[];
}

export interface PlanOptions {
  /** Pages one segment should take, about. */
  segmentPages: number;
  maxSegments: number;
}

/**
 * Splits each shard into segments from the pages of its last sweep: a long chain costs one page per
 * POST, so a language with 13,000 streams at 24 new a page takes 550 POSTs on one chain; cut at
 * cursors spread over the last sweep, its segments are paged side by side. Without a last sweep
 * (the first after a start) a shard is one segment.
 */
export function planShards(
  shards: readonly Shard[],
  last: ReadonlyMap<string, readonly PageMark[]>,
  options: PlanOptions,
): ShardPlan[] {
  return shards.map((shard) => {
    const pages = (last.get(shard.name) ?? []).filter((p): p is { after: string; top: number } => p.after !== null);
    // Segments overlap where they join, and their pages came in any order: sort by viewers, most first.
    pages.sort((a, b) => b.top - a.top);
    const total = pages.length + 1;
    const segments = Math.max(
      1,
      Math.min(options.maxSegments, Math.ceil(total / Math.max(1, options.segmentPages)), total),
    );
    const starts: (string | null)[] = [null];
    for (let k = 1; k < segments; k++) {
      const at = Math.floor((k * total) / segments) - 1;
      const cursor = pages[Math.max(0, Math.min(pages.length - 1, at))]?.after;
      if (cursor !== undefined && !starts.includes(cursor)) starts.push(cursor);
    }
    return { shard, starts };
  });
}
