import type { Clock } from "@vod/clock";
import type { VodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { isPlaylist, posterior, type Candidate } from "@vod/twitch";
import type { BlockDetector } from "./block.ts";
import type { DomainGet } from "./domain-get.ts";
import { candidateId, type FetchReport } from "./fetch-report.ts";
import type { DomainKnowledge } from "./knowledge.ts";
import type { Outcomes } from "./outcomes.ts";

export interface SearchDeps {
  /** The VOD's candidates, likeliest first. */
  candidates(req: VodFetchRequest): Candidate[];
  get: DomainGet;
  outcomes: Outcomes;
  knowledge: DomainKnowledge;
  clock: Clock;
  log: Logger;
  /** The search stops once the VOD is on the CDN with less than this probability (0: never early). */
  stopProbability: number;
  block?: BlockDetector | undefined;
}

/**
 * The CDN searched for a VOD, likeliest candidate first, until it is found or is unlikely to be
 * there at all (`prior`: the probability that it is, before the first request); a search stopped
 * early carries what the deep search needs. A domain that fails makes the outcome `failed`.
 */
export async function searchCdn(
  d: SearchDeps,
  req: VodFetchRequest,
  prior: number,
  decidesStreamer: boolean,
  signal: AbortSignal,
): Promise<FetchReport> {
  const { knowledge, clock, outcomes } = d;
  const stop = d.stopProbability;
  let requests = 0;
  let mass = 0;
  let stoppedEarly = false;
  const tried: string[] = [];
  const unwell = new Map<string, string>();

  for (const c of d.candidates(req)) {
    if (unwell.has(c.domain)) {
      // Not asked now, and weighed as if it missed: the search stops where it would have, and the
      // VOD's outcome is failed, so the retry asks again once the domain is well. Going on through
      // every other domain instead costs a dozen requests that rarely find it.
      mass += c.p;
      continue;
    }
    if (stop > 0 && posterior(prior, mass) < stop) {
      stoppedEarly = true;
      break;
    }
    const got = await d.get.get(c.domain, c.path, signal);
    requests += got.requests;
    if ("skipped" in got) {
      unwell.set(c.domain, got.skipped);
      continue;
    }
    const { answer } = got;
    if (answer.kind === "ok" && isPlaylist(answer.body)) {
      return { result: outcomes.hit(req, c.domain, c.path, c.variant, c.ts, answer.body, requests, false) };
    }
    if (answer.kind === "ok" || answer.kind === "missing") {
      mass += c.p;
      tried.push(candidateId(c));
      continue;
    }
    unwell.set(c.domain, answer.kind === "rate_limited" ? "HTTP 429" : answer.error);
  }

  if (unwell.size > 0) {
    const error = [...unwell].map(([domain, e]) => `${domain}: ${e}`).join("; ");
    d.log.warn(
      { streamId: req.streamId, login: req.login, requests, error },
      "VOD not found and some domains failed; outcome failed",
    );
    return outcomes.report(req, "failed", requests, error);
  }
  if (d.block?.active(clock.now())) {
    // Every 403 during a block may be the block's: nothing here proves the VOD missing.
    return outcomes.report(req, "failed", requests, "the CDN answers 403 to VODs GQL lists (a block)");
  }
  knowledge.notFound(req.streamerId, requests > 0, clock.now());
  const report = outcomes.report(req, "not_found", requests, null);
  if (!stoppedEarly) return report;
  return { result: { ...report.result, partial: true }, deep: { prior, tried, decidesStreamer } };
}
