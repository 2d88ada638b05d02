import { describeTime, type StartTime } from "./input.ts";
import { searchCandidates } from "./order.ts";
import { pickRestart } from "./restarts.ts";
import { finish, NotFound, type Recovered } from "./result.ts";
import { usable, type Known, type RecoverRun } from "./run.ts";
import { searchCdn } from "./search.ts";
import { learned } from "./sources.ts";

/**
 * Source 4, the CDN: every candidate path searched in likelihood order (`searchCandidates`) through
 * the client's budget (`searchCdn`), with the domains learned from the fetcher's table and the
 * listing. A hit in the seconds-field form of a minute may be a same-id restart: `pickRestart`
 * decides. Throws NotFound, saying what was tried, when nothing answers.
 */
export async function fromCdn(run: RecoverRun, known: Known, login: string): Promise<Recovered> {
  const { o, client, signal, baseUrl, sources } = run;
  const { streamId, db, listing } = known;
  const when = known.exact ?? known.time;
  if (when === undefined) {
    throw new NotFound(
      `stream ${streamId} of ${login} is not in our archive${o.gql ? " nor in its GraphQL listing" : ""}; a CDN search needs the start time: give --time (the tracker page shows it)`,
      run.tried(null),
    );
  }
  const know =
    db && o.domainKnowledge !== false
      ? await learned(db, known.streamerId, run.now(), o.scoreHalfLifeMs)
      : { streamerDomain: undefined, scores: new Map<string, number>(), discovered: [] };
  const listedDomains = (listing?.listing.videos ?? []).map((v) => v.domain).filter((d) => usable(d, o));
  const domains = [...new Set([...o.domains, ...know.discovered.filter((d) => usable(d, o)), ...listedDomains])];
  // The listing is fresher than what the fetcher last saw: its newest VOD's domain is the streamer's now.
  const streamerDomain = listedDomains[0] ?? know.streamerDomain;
  const candidates = searchCandidates(login, streamId, when, {
    domains,
    streamerDomain,
    score: (d) => know.scores.get(d) ?? 0,
  });
  run.note(`searching the CDN: ${candidates.length} candidate paths on ${domains.length} domains`);
  sources.push(
    `cdn (${describeTime(when)}, ${domains.length} domains${streamerDomain ? `, ${streamerDomain} first` : ""})`,
  );
  const search = await searchCdn(candidates, client, { baseUrl, concurrency: o.cdn.concurrency, signal });
  const tried = search.tried;
  let hit = search.hit;
  if (!hit) {
    const failing = Object.entries(tried.failing).map(([d, e]) => `${d} (${e})`);
    throw new NotFound(
      `not found: ${login} stream ${streamId} at ${describeTime(when)}; tried ${sources.join(", ")}: ` +
        `${tried.requests} CDN requests, ${tried.missed.given} forms of the time given, ${tried.missed["seconds-field"]} seconds-field forms` +
        (when.precision === "minute" ? `, ${tried.missed.neighbour} in the minutes either side` : "") +
        (failing.length > 0
          ? `; these domains kept failing, so the VOD may still be there: ${failing.join(", ")}`
          : ""),
      run.tried(tried),
    );
  }
  if (when.precision === "minute" && hit.candidate.band === "seconds-field") {
    hit = await pickRestart(run, { login, streamId, when, candidates, first: hit, search });
  }
  return await finish(
    run,
    streamId,
    { url: hit.url, startMs: startOf(hit.candidate, when), login },
    hit.body,
    known.seenLive ? "seen" : "cdn",
  );
}

/** The start time a hit's path implies: its ts is the start, one second less, or the seconds field of the start. */
function startOf(c: { variant: string; ts: number }, when: StartTime): number {
  if (c.variant === "start") return c.ts * 1000;
  if (c.variant === "minus1") return (c.ts + 1) * 1000;
  return when.precision === "second" ? when.ms : when.ms - (when.ms % 60_000) + c.ts * 1000;
}
