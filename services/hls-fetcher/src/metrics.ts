import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ArchiveLookup } from "./archives.ts";
import type { FetchCounters } from "./fetch-report.ts";
import type { FollowUps } from "./followups.ts";
import type { RateLimiter } from "@vod/cdn-budget";

/** The fetcher's metrics: the counters fetches report to, and gauges read from the limiter, the follow-ups and GQL. */
export function fetcherMetrics(
  registry: Registry,
  limiter: RateLimiter,
  followUps: FollowUps,
  archives: ArchiveLookup | undefined,
): FetchCounters {
  const requests = new Counter({
    name: "fetcher_http_requests_total",
    help: "CDN requests by domain, HTTP status (none: timeout or reset) and answer kind",
    labelNames: ["domain", "status", "answer"],
    registers: [registry],
  });
  const vods = new Counter({
    name: "fetcher_vods_total",
    help: "VOD outcomes",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const perVod = new Histogram({
    name: "fetcher_requests_per_vod",
    help: "HTTP requests one VOD cost, by outcome",
    labelNames: ["outcome"],
    buckets: [1, 2, 3, 5, 10, 20, 45],
    registers: [registry],
  });
  new Gauge({
    name: "fetcher_limiter_min_time_ms",
    help: "Current spacing between CDN requests",
    registers: [registry],
    collect() {
      this.set(limiter.minTimeMs);
    },
  });
  new Gauge({
    name: "fetcher_followups",
    help: "VODs owed a retry (failed) or a deep search (given up early)",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.set({ kind: "retry" }, followUps.count("retry"));
      this.set({ kind: "deep" }, followUps.count("deep"));
    },
  });
  new Gauge({
    name: "fetcher_gql_posts",
    help: "GQL POSTs for archive listings since start",
    registers: [registry],
    collect() {
      this.set(archives?.posts ?? 0);
    },
  });
  new Gauge({
    name: "fetcher_gql_lookup_failures",
    help: "Archive listings GQL did not give (failure, timeout) since start",
    registers: [registry],
    collect() {
      this.set(archives?.failures ?? 0);
    },
  });
  const discovered = new Counter({
    name: "fetcher_domains_discovered_total",
    help: "CDN domains learned: named by GQL's seekPreviewsURL, then served a playlist",
    registers: [registry],
  });
  return {
    discovered: () => discovered.inc(),
    request: (domain, answer) => requests.inc({ domain, status: String(answer.status ?? "none"), answer: answer.kind }),
    outcome: (outcome, n) => {
      vods.inc({ outcome });
      perVod.observe({ outcome }, n);
    },
  };
}
