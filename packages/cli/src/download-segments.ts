// Fetches a VOD's segments into a work directory, each written under a temporary name and renamed
// when complete: a file with the final name is whole, so a run after a kill fetches only the rest.
import { readdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Segment } from "./time-range.ts";

export interface SegmentFetchOptions {
  concurrency: number;
  /** Tries after the first, for a 5xx, 429, timeout or reset; a 403/404/410 is final (the segment is gone). */
  retries: number;
  timeoutMs: number;
  /** First wait before a retry; doubled each time. */
  backoffMs: number;
  /** Once the segments already on disk are counted (a resumed run). */
  onStart?: (reused: number, bytes: number) => void;
  /** After each segment settles; `bytes` is what it added. */
  onSegment?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface SegmentsFetched {
  /** Whole segments on disk, by index: the ones already there and the ones fetched now. */
  files: Map<number, string>;
  reused: number;
  fetched: number;
  bytes: number;
  /** Gone from the CDN (403/404/410, or a body that is no MPEG-TS): skipped. */
  dead: { segment: Segment; status: string }[];
  /** Still failing after the retries: the run can be repeated to resume. */
  failed: { segment: Segment; error: string }[];
}

export const segmentFile = (dir: string, index: number): string => join(dir, `${String(index).padStart(6, "0")}.ts`);

/** Segments already whole in `dir`, with their sizes. */
export async function segmentsOnDisk(dir: string, segments: readonly Segment[]): Promise<Map<number, number>> {
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  const out = new Map<number, number>();
  for (const s of segments) {
    const path = segmentFile(dir, s.index);
    if (names.has(path.slice(dir.length + 1))) out.set(s.index, (await stat(path)).size);
  }
  return out;
}

type Outcome = { kind: "ok"; bytes: number } | { kind: "dead"; status: string } | { kind: "failed"; error: string };

/** Fetches the segments not yet on disk, `concurrency` at a time. */
export async function fetchSegments(
  dir: string,
  segments: readonly Segment[],
  o: SegmentFetchOptions,
): Promise<SegmentsFetched> {
  const onDisk = await segmentsOnDisk(dir, segments);
  const result: SegmentsFetched = { files: new Map(), reused: 0, fetched: 0, bytes: 0, dead: [], failed: [] };
  for (const [index, size] of onDisk) {
    result.files.set(index, segmentFile(dir, index));
    result.reused++;
    result.bytes += size;
  }
  o.onStart?.(result.reused, result.bytes);
  const queue = segments.filter((s) => !onDisk.has(s.index));
  let next = 0;
  const worker = async () => {
    while (next < queue.length && !o.signal?.aborted) {
      const segment = queue[next++]!;
      const path = segmentFile(dir, segment.index);
      const outcome = await fetchOne(segment.uri, path, o);
      if (outcome.kind === "ok") {
        result.files.set(segment.index, path);
        result.fetched++;
        result.bytes += outcome.bytes;
      } else if (outcome.kind === "dead") result.dead.push({ segment, status: outcome.status });
      else result.failed.push({ segment, error: outcome.error });
      o.onSegment?.(outcome.kind === "ok" ? outcome.bytes : 0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, queue.length) }, worker));
  const byIndex = (a: { segment: Segment }, b: { segment: Segment }) => a.segment.index - b.segment.index;
  result.dead.sort(byIndex);
  result.failed.sort(byIndex);
  return result;
}

async function fetchOne(uri: string, path: string, o: SegmentFetchOptions): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    let error: string;
    try {
      const res = await fetch(uri, { signal: AbortSignal.timeout(o.timeoutMs) });
      if (res.status === 403 || res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        return { kind: "dead", status: `HTTP ${res.status}` };
      }
      if (res.ok) {
        const body = Buffer.from(await res.arrayBuffer());
        // A dead CloudFront host may answer 200 with an XML listing (FACTS.md): no segment either.
        if (uri.endsWith(".ts") && body[0] !== 0x47) return { kind: "dead", status: "not MPEG-TS" };
        await writeFile(`${path}.part`, body);
        await rename(`${path}.part`, path);
        return { kind: "ok", bytes: body.length };
      }
      await res.body?.cancel();
      error = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: Error };
      error = e.name === "TimeoutError" ? `no answer within ${o.timeoutMs} ms` : (e.cause ?? e).message;
    }
    if (attempt >= o.retries || o.signal?.aborted) return { kind: "failed", error };
    await sleep(o.backoffMs * 2 ** attempt * (0.75 + Math.random() / 2));
  }
}
