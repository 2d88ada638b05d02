import type { StartTime } from "./input.ts";
import { finish, type FoundAt, type Recovered } from "./result.ts";
import type { Known, RecoverRun } from "./run.ts";
import { archivedVods, streamerIdOf, type ArchivedVod } from "./sources.ts";

/**
 * Sources 1 and 2, our archive: a VOD found there is the answer (its stored playlist and API link);
 * one seen live but not found gives its exact start time, login and streamer. Unreadable (not
 * migrated, down): the other sources still work, and `known.db` is dropped.
 */
export async function fromArchive(run: RecoverRun, known: Known): Promise<Recovered | null> {
  const { note, sources } = run;
  const rowsOf = async (): Promise<ArchivedVod[] | null> => {
    try {
      return await archivedVods(known.db!, known.streamId);
    } catch (err) {
      const e = err as Error & { cause?: Error };
      note(`our archive could not be read (${(e.cause ?? e).message.split("\n")[0]}); going on without it`);
      known.db = undefined;
      return null;
    }
  };
  const archived = known.db ? await rowsOf() : null;
  if (!known.db || !archived) return null;
  sources.push("archive");
  const { time } = known;
  const rows = archived.filter((r) => time === undefined || near(r.startMs, time));
  const found = rows.find((r) => r.outcome === "found" && r.playlist !== null);
  if (found) return await finish(run, known.streamId, fromArchiveRow(found, run.o.apiUrl), found.playlist!, "archive");
  const seen = rows[0];
  if (seen) {
    sources.push(`seen live (${new Date(seen.startMs).toISOString()}, ${seen.outcome ?? "not fetched yet"})`);
    known.login ??= seen.login;
    known.streamerId = seen.streamerId;
    known.exact = { ms: seen.startMs, precision: "second" };
    known.seenLive = true;
  } else if (known.login) known.streamerId = await streamerIdOf(known.db, known.login);
  return null;
}

/** Where a VOD of our archive plays: the API's link to its stored playlist. */
export function fromArchiveRow(row: ArchivedVod, apiUrl: string): FoundAt & { cdnUrl: string | null } {
  return {
    url: `${apiUrl.replace(/\/+$/, "")}/m3u8/${row.streamId}/${Math.floor(row.startMs / 1000)}/index.m3u8`,
    startMs: row.startMs,
    login: row.login,
    cdnUrl: row.url,
  };
}

/** A stored start time matches the time given: within its second or minute, or the minutes either side. */
function near(startMs: number, time: StartTime): boolean {
  const span = time.precision === "second" ? 2_000 : 60_000;
  return startMs >= time.ms - span && startMs < time.ms + span + (time.precision === "minute" ? 60_000 : 0);
}
