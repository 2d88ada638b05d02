import { latestStartMs } from "@vod/twitch";
import { describeTime, type StartTime } from "./input.ts";
import type { SearchCandidate } from "./order.ts";
import { NotFound } from "./result.ts";
import type { RecoverRun } from "./run.ts";
import { searchCdn, type CdnHit, type SearchOutcome } from "./search.ts";

/**
 * A hit in the seconds-field form of a minute given may be another VOD of the same stream id.
 * Any same-id restart's path is a seconds field (0–59), so the path cannot tell two restarts apart by
 * the minute. Every other seconds-field form on that domain is tried; of the playlists found, the one
 * that says (by its own tags) it could have started in the minute given is the answer. Throws
 * NotFound (ambiguous) when none or several could have.
 */
export async function pickRestart(
  run: RecoverRun,
  s: {
    login: string;
    streamId: string;
    when: StartTime;
    candidates: readonly SearchCandidate[];
    first: CdnHit;
    search: SearchOutcome;
  },
): Promise<CdnHit> {
  const { client, signal, baseUrl, o } = run;
  const { login, streamId, when, first, search } = s;
  const hits = [first];
  let rest = s.candidates.filter(
    (c) =>
      c.band === "seconds-field" &&
      c.domain === first.candidate.domain &&
      c !== first.candidate &&
      !search.ruledOut.has(c),
  );
  for (;;) {
    const more = await searchCdn(rest, client, { baseUrl, concurrency: o.cdn.concurrency, signal });
    const found = more.hit;
    if (!found) break;
    hits.push(found);
    rest = rest.filter((c) => c !== found.candidate && !more.ruledOut.has(c));
  }
  if (hits.length === 1) return first;
  const fits = hits.filter((h) => couldStartInMinute(h.body, when.ms));
  const list = hits.map((h) => `ts ${h.candidate.ts}: ${h.url}`).join("; ");
  if (fits.length !== 1) {
    throw new NotFound(
      `ambiguous: ${login} stream ${streamId} restarted under the same stream id, and ${fits.length === 0 ? "none" : fits.length} of its ` +
        `${hits.length} VODs in the seconds-field form could have started at ${describeTime(when)} by their playlists' ` +
        `times (${list}); give the start time to the second`,
      run.tried(search.tried),
    );
  }
  const hit = fits[0]!;
  run.note(
    `${login} stream ${streamId} restarted under the same stream id (${list}); only ts ${hit.candidate.ts} ` +
      `could have started at ${describeTime(when)} by its playlist's times`,
  );
  return hit;
}

/**
 * A playlist is written when its VOD ends and rewritten by the mute run, on the first hour after the end
 * (FACTS.md), so its tags put the VOD's start between `latestStart − 1 h` (and a few minutes for the run)
 * and `latestStart`. A playlist without the tags could be any restart.
 */
const WRITTEN_WITHIN_MS = 65 * 60_000;
function couldStartInMinute(body: string, minuteMs: number): boolean {
  const latest = latestStartMs(body);
  if (latest === null) return true;
  return latest >= minuteMs && latest < minuteMs + 60_000 + WRITTEN_WITHIN_MS;
}
