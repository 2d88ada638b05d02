import type { StartTime } from "@vod/recover";
import type { ReadPool } from "./db.ts";
import type { FindAsk } from "./find-input.ts";
import { LINK_SQL } from "./vods.ts";

/** A row of the archive the input names: found (its playlist is served), or seen live without a playlist. */
export interface ArchiveRow {
  streamId: string;
  login: string;
  startTime: string;
  outcome: "found" | "not_found" | "failed" | null;
  /** The API's playlist path, when found. */
  playlist: string | null;
  title: string | null;
  durationSeconds: number | null;
  segments: number | null;
}

const COLUMNS = `stream_id::text as "streamId", login, to_char(start_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "startTime",
  outcome, case when outcome = 'found' then ${LINK_SQL} end as playlist, title,
  duration_seconds::float8 as "durationSeconds", segment_count as segments`;

/** The start times a time given may mean: its second or minute, and the minute either side (as people round). */
function window(time: StartTime): [Date, Date] {
  const span = time.precision === "second" ? 2_000 : 60_000;
  const end = time.ms + span + (time.precision === "minute" ? 60_000 : 0);
  return [new Date(time.ms - span), new Date(end)];
}

/**
 * The archive's answer to a find, read through the API's read-only pool: no CDN or GraphQL request.
 * A found row first; else a row seen live (its exact start and login help the search); else null.
 */
export async function fromArchive(db: ReadPool, ask: FindAsk, signal?: AbortSignal): Promise<ArchiveRow | null> {
  let rows: ArchiveRow[];
  if (ask.kind === "video") {
    rows = await db.read<ArchiveRow>(
      `select ${COLUMNS} from vods where video_id = $1 order by start_time desc limit 5`,
      [ask.videoId],
      signal,
    );
  } else if (ask.kind === "stream") {
    const [from, to] = ask.time ? window(ask.time) : [new Date(0), new Date(8.64e15)];
    rows = await db.read<ArchiveRow>(
      `select ${COLUMNS} from vods where stream_id = $1 and start_time >= $2 and start_time < $3 order by start_time desc limit 5`,
      [ask.streamId, from, to],
      signal,
    );
  } else {
    const [from, to] = window(ask.time);
    rows = await db.read<ArchiveRow>(
      `select ${COLUMNS} from vods where login = $1 and start_time >= $2 and start_time < $3 order by start_time desc limit 5`,
      [ask.login, from, to],
      signal,
    );
  }
  return rows.find((r) => r.playlist !== null) ?? rows[0] ?? null;
}
