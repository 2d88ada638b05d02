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
              : row.outcome === "not_found" && deletedBefore(t, row.fetchedAt)
                ? "outcome not_found, deleted before the fetch"
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

/** The streamer deleted the VOD after it was due and before the fetcher got to it: its playlist no longer answered. */
function deletedBefore(t: VodTruth, fetchedAt: string | null): boolean {
  return t.cdnUntil !== null && fetchedAt !== null && Date.parse(fetchedAt) >= Date.parse(t.cdnUntil);
}

export interface LagSample {
  /** Simulated ms. */
  at: number;
  /** Messages waiting per consumer group. */
  lag: Record<string, number>;
}

export interface Drain {
  fault: string;
  group: string;
  simMinutes: number;
}

const HOUR_MS = 3_600_000;

/**
 * How long each group's backlog took, after each fault window, to come back to what it would have been
 * without the fault. The fetch backlog rises every hour by design (every VOD of an hour is due at the
 * same mute run) and falls as the budget works it off, so "back" is the group's usual lag at that minute
 * of the hour: the median of the samples within two minutes of it in every hour, leaving out fault
 * windows and the hour after each (or, where there are none, the lag just before the fault), plus a
 * twentieth and 20 messages (hourly bursts vary by about a tenth, so a smaller excess hides in a high one).
 */
export function drainTimes(
  samples: readonly LagSample[],
  windows: readonly Window[],
  groups: readonly string[],
  endMs: number,
): Drain[] {
  const minuteOf = (at: number) => Math.floor((((at % HOUR_MS) + HOUR_MS) % HOUR_MS) / 60_000);
  const quiet = samples.filter((s) => !windows.some((w) => s.at >= w.from && s.at < w.until + HOUR_MS));
  const usual = new Map<string, (number | undefined)[]>();
  for (const group of groups) {
    const byMinute: number[][] = Array.from({ length: 60 }, () => []);
    for (const s of quiet)
      for (let d = -2; d <= 2; d++) byMinute[(minuteOf(s.at) + d + 60) % 60]!.push(s.lag[group] ?? 0);
    usual.set(
      group,
      byMinute.map((lags) => (lags.length > 0 ? percentile(lags, 50) : undefined)),
    );
  }
  const drains: Drain[] = [];
  for (const w of windows) {
    for (const group of groups) {
      const before = samples.filter((s) => s.at < w.from).at(-1)?.lag[group] ?? 0;
      const limit = (at: number) => 20 + 1.05 * (usual.get(group)?.[minuteOf(at)] ?? before);
      const back = samples.find((s) => s.at >= w.until && (s.lag[group] ?? 0) <= limit(s.at));
      const over = samples.some(
        (s) => s.at >= w.from && s.at < (back?.at ?? Infinity) && (s.lag[group] ?? 0) > limit(s.at),
      );
      if (!over) continue;
      drains.push({ fault: w.name, group, simMinutes: Math.round(((back?.at ?? endMs) - w.until) / 60_000) });
    }
  }
  return drains;
}
