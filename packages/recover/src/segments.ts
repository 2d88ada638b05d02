import type { CdnClient } from "./http.ts";

export interface SegmentCheck {
  checked: number;
  dead: { uri: string; status: string }[];
  /** The playlist with dead segments (and their #EXTINF) commented out. */
  text: string;
}

/** Segment URIs of a playable playlist, in order, with the line each sits on. */
function segmentLines(text: string): { line: number; uri: string }[] {
  const out: { line: number; uri: string }[] = [];
  text.split("\n").forEach((raw, line) => {
    const l = raw.trim();
    if (l !== "" && !l.startsWith("#")) out.push({ line, uri: l });
  });
  return out;
}

/**
 * Checks segments of a playlist (absolute URIs): `"sample"` the first, middle and last, `"all"`
 * every one, or a number spread evenly. Requests go through the run's client (its budget and
 * concurrency). A segment answering anything but 200 is dead: reported and commented out with its
 * #EXTINF, so players skip it instead of stalling.
 */
export async function checkSegments(
  text: string,
  which: "sample" | "all" | number,
  client: CdnClient,
  signal: AbortSignal,
): Promise<SegmentCheck> {
  const segments = segmentLines(text);
  const picks = pick(segments.length, which).map((i) => segments[i]!);
  const dead: { line: number; uri: string; status: string }[] = [];
  await Promise.all(
    picks.map(async (s) => {
      const answer = await client.get(s.uri, signal);
      if (answer === null) return;
      if (answer.kind !== "ok")
        dead.push({ ...s, status: answer.kind === "missing" ? `HTTP ${answer.status}` : answer.error });
    }),
  );
  dead.sort((a, b) => a.line - b.line);
  const lines = text.split("\n");
  for (const d of dead) {
    lines[d.line] = `# dead segment (${d.status}): ${lines[d.line]}`;
    const inf = d.line - 1;
    if (inf >= 0 && lines[inf]!.startsWith("#EXTINF")) lines[inf] = `# dead segment: ${lines[inf]}`;
  }
  return { checked: picks.length, dead: dead.map(({ uri, status }) => ({ uri, status })), text: lines.join("\n") };
}

function pick(n: number, which: "sample" | "all" | number): number[] {
  if (n === 0) return [];
  if (which === "all") return Array.from({ length: n }, (_, i) => i);
  const count = which === "sample" ? 3 : Math.min(n, Math.max(1, which));
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  // Evenly spread, first and last included: 3 → first, middle, last.
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(count === 1 ? 0 : Math.round((i * (n - 1)) / (count - 1)));
  return [...out];
}
