import type { VodFetchRequest } from "@vod/kafka";
import { isPlaylist, type TimestampVariant } from "@vod/twitch";
import type { SearchDeps } from "./cdn-search.ts";
import type { FetchReport } from "./fetch-report.ts";

/**
 * A VOD in the streamer's GQL listing: one GET on the domain and path its seekPreviewsURL names.
 * It is on the CDN, so anything but its playlist is `failed` (retried), never `not_found`; a 403
 * counts toward a block.
 */
export async function fetchListed(
  d: Pick<SearchDeps, "get" | "outcomes" | "clock" | "block">,
  req: VodFetchRequest,
  domain: string,
  path: string,
  variant: TimestampVariant,
  ts: number,
  signal: AbortSignal,
): Promise<FetchReport> {
  const { outcomes } = d;
  const got = await d.get.get(domain, path, signal);
  if ("skipped" in got) return outcomes.report(req, "failed", got.requests, `${domain}: ${got.skipped}`);
  const { answer, requests } = got;
  const now = d.clock.now();
  if (answer.kind === "ok" && isPlaylist(answer.body)) {
    d.block?.listedAnswered(now);
    return { result: outcomes.hit(req, domain, path, variant, ts, answer.body, requests, true) };
  }
  if (answer.kind === "missing") {
    // GQL lists it, so a 403 is the CDN refusing us (CloudFront's WAF answers 403) or a deletion this minute.
    d.block?.listed403(now);
    return outcomes.report(req, "failed", requests, `${domain}: HTTP ${answer.status} for a VOD GQL lists`);
  }
  const why =
    answer.kind === "ok"
      ? "HTTP 200 that is not a playlist"
      : answer.kind === "rate_limited"
        ? "HTTP 429"
        : answer.error;
  return outcomes.report(req, "failed", requests, `${domain}: ${why}`);
}
