/**
 * The soak's judge: what the system archived (Postgres, the fetch requests topic) against what the
 * simulator says happened. Pure, so the rules can be tested apart from a run.
 */
import { onCdnAt, type VodTruth } from "@vod/twitch-sim";

export interface ArchivedRow {
  streamId: string;
  startTime: string;
  outcome: "found" | "not_found" | "failed" | null;
  /** Clock (simulated) time of the fetch that gave the outcome. */
  fetchedAt: string | null;
  segments: number | null;
  /** The stored playlist ends with #EXT-X-ENDLIST. */
  endlist: boolean | null;
  /** Most viewers the sweeps saw. */
  maxViewers?: number;
}

export interface Release {
  streamId: string;
  startTime: string;
  releaseAt: string;
}

export interface Window {
  name: string;
  from: number;
  until: number;
}

export interface JudgeInput {
  /** Every VOD the simulator ended since it started (any viewers), warm-up included. */
  truth: VodTruth[];
  /** VODs that ended before this (simulated ms) are not judged (the warm-up). */
  endedFrom: number;
  rows: ArchivedRow[];
  releases: Release[];
  /** VODs due after this (simulated ms) are left out: the run ended before they could be archived. */
  dueBefore: number;
  minViewers: number;
  /** The delay's margin after the mute boundary. */
  muteMarginMs: number;
  faults: Window[];
}

export interface Judgement {
  /** VODs that reached `minViewers` and were due in the run. */
  vods: number;
  onCdnWhenDue: number;
  archived: number;
  missed: number;
  early: number;
  truncated: number;
  duplicates: number;
  /** Release → archived, simulated minutes, outside and inside fault windows. */
  latencyP50Min: number;
  latencyP99Min: number;
  latencyInFaultsP50Min: number;
  latencyInFaultsP99Min: number;
  /** A few of each kind of miss, to look into. */
  examples: { missed: string[]; early: string[]; truncated: string[]; duplicates: string[] };
  /** Why the missed VODs were missed, as far as the records tell. */
  missedBy: Record<string, number>;
}

const keyOf = (streamId: string, startTime: string) => `${streamId}@${new Date(startTime).toISOString()}`;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** When a VOD was due: the mute run after its end, plus the delay's margin. */
export function dueAt(t: Pick<VodTruth, "muteRunAt" | "endedAt">, muteMarginMs: number): number | null {
  const boundary = t.muteRunAt ?? null;
  return boundary === null ? null : Date.parse(boundary) + muteMarginMs;
}

export function judge(input: JudgeInput): Judgement {
  const rows = new Map(input.rows.map((r) => [keyOf(r.streamId, r.startTime), r]));
  const releases = new Map<string, string[]>();
  for (const r of input.releases) {
    const k = keyOf(r.streamId, r.startTime);
    const list = releases.get(k) ?? [];
    list.push(r.releaseAt);
    releases.set(k, list);
  }
  const inFault = (t: number) => input.faults.some((w) => t >= w.from && t < w.until);
  const truthKeys = new Set(input.truth.map((t) => keyOf(t.streamId, t.startTime)));

  let vods = 0;
  let onCdnWhenDue = 0;
  let archived = 0;
  const missed: string[] = [];
  const missedBy: Record<string, number> = {};
  const early: string[] = [];
  const truncated: string[] = [];
  const latency: number[] = [];
  const latencyInFaults: number[] = [];

  for (const t of input.truth) {
    if (t.peakViewers < input.minViewers || t.endedAt === null || Date.parse(t.endedAt) < input.endedFrom) continue;
    const due = dueAt(t, input.muteMarginMs);
    if (due === null || due >= input.dueBefore) continue;
    vods++;
    const key = keyOf(t.streamId, t.startTime);
    const row = rows.get(key);
    const found = row?.outcome === "found";
    if (found) archived++;
    if (onCdnAt(t, due)) {
      onCdnWhenDue++;
      if (!found) {
        missed.push(key);
        // A sweep every 5 minutes samples the counts: a peak between two sweeps is not seen.
        const why = !row
          ? "never seen"
          : (releases.get(key)?.length ?? 0) === 0
            ? row.maxViewers !== undefined && row.maxViewers < input.minViewers
              ? `seen, never at ${input.minViewers} in a sweep`
              : "seen, never released"
            : row.outcome === null
              ? "released, no outcome"
              : `outcome ${row.outcome}`;
        missedBy[why] = (missedBy[why] ?? 0) + 1;
      }
    }
    if (!found || !row) continue;
    const fetched = row.fetchedAt === null ? null : Date.parse(row.fetchedAt);
    if (fetched !== null && t.muteRunAt !== null && fetched < Date.parse(t.muteRunAt)) early.push(key);
    if (row.endlist === false || (row.segments !== null && row.segments < t.segments)) truncated.push(key);
    const released = (releases.get(key) ?? []).map(Date.parse).filter((r) => fetched !== null && r <= fetched);
    if (fetched !== null && released.length > 0) {
      const from = Math.max(...released);
      (inFault(from) || inFault(fetched) ? latencyInFaults : latency).push((fetched - from) / 60_000);
    }
  }

  // The same ending released twice, or an archived row no VOD of the simulator matches.
  const duplicates: string[] = [];
  for (const [key, list] of releases) if (new Set(list).size < list.length) duplicates.push(key);
  for (const [key, row] of rows)
    if (row.outcome === "found" && !truthKeys.has(key)) duplicates.push(`${key} (no such VOD)`);

  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    vods,
    onCdnWhenDue,
    archived,
    missed: missed.length,
    early: early.length,
    truncated: truncated.length,
    duplicates: duplicates.length,
    latencyP50Min: round(percentile(latency, 50)),
    latencyP99Min: round(percentile(latency, 99)),
    latencyInFaultsP50Min: round(percentile(latencyInFaults, 50)),
    latencyInFaultsP99Min: round(percentile(latencyInFaults, 99)),
    examples: {
      missed: missed.slice(0, 10),
      early: early.slice(0, 10),
      truncated: truncated.slice(0, 10),
      duplicates: duplicates.slice(0, 10),
    },
    missedBy,
  };
}
