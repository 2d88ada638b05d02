import { clock, megabytes } from "./progress.ts";

/** What `vods download` prints (`--json`: this object). Times are seconds into the VOD. */
export interface DownloadReport {
  out: string;
  login: string;
  streamId: string;
  startTime: string;
  quality: string;
  via: string;
  playlist: string;
  /** The whole segments written: from the first one's start to the last one's end. */
  from: number;
  to: number;
  segments: number;
  /** Length of the segments written (dead ones left out). */
  seconds: number;
  bytes: number;
  fetched: number;
  /** Already on disk from an interrupted run. */
  reused: number;
  dead: { index: number; uri: string; from: number; to: number; status: string }[];
  elapsedSeconds: number;
}

export function formatDownload(r: DownloadReport): string {
  const quality = r.quality === "chunked" ? "source quality" : r.quality;
  const lines = [
    `wrote ${r.out}: ${r.login} stream ${r.streamId} (started ${r.startTime}), ${quality}, ${clock(r.from)}–${clock(r.to)}`,
    `${r.segments} segments, ${clock(r.seconds)}, ${megabytes(r.bytes)} in ${r.elapsedSeconds.toFixed(1)} s` +
      (r.reused > 0 ? ` (${r.reused} already on disk from an earlier run, ${r.fetched} fetched now)` : ""),
  ];
  if (r.dead.length > 0) {
    const shown = r.dead
      .slice(0, 10)
      .map((d) => `${clock(d.from)}–${clock(d.to)} (${d.uri.split("/").pop()}, ${d.status})`)
      .join(", ");
    lines.push(
      `${r.dead.length} dead segment${r.dead.length === 1 ? "" : "s"} skipped (gone from the CDN; the file jumps over them): ${shown}${r.dead.length > 10 ? ", …" : ""}`,
    );
  }
  return lines.join("\n");
}
