// CDN domains are learned from evidence: GQL naming a host is not enough, a playlist must have come
// from it; what was learned is checked again when read back, and forgotten when it stops serving.
import { describe, expect, it } from "vitest";
import { cdnDomainHealth } from "@vod/db";
import type { Logger } from "@vod/log";
import { useDatabase } from "@vod/testing";
import { DEAD_VOD_DOMAINS } from "@vod/twitch";
import { DomainKnowledge, type KnowledgeOptions } from "./knowledge.ts";

const t = useDatabase();

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 6, 12);
const base = { halfLifeMs: 3_600_000, failureThreshold: 2, cooldownMs: 60_000 };
const PATTERN = /^(d[a-z0-9]{12,13}\.cloudfront\.net|vod-[a-z0-9-]{1,40}\.twitch\.tv)$/;

/** A logger that keeps its warnings' messages and domains. */
function recordingLog(warns: string[]): Logger {
  const log = {
    warn: (obj: { domain?: string }, msg: string) => void warns.push(`${obj.domain}: ${msg}`),
    info: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    child: () => log,
  };
  return log as unknown as Logger;
}

async function truncate(): Promise<void> {
  await t.pool.query("truncate cdn_domain_health, cdn_streamer_domains");
}

describe("learned CDN domains", () => {
  it("a host GQL names is learned only once a playlist came from it", async () => {
    await truncate();
    const learned: string[] = [];
    const k = new DomainKnowledge({ ...base, discoverable: PATTERN, onLearned: (d) => void learned.push(d) });
    const host = "d1newhost0a1b2.cloudfront.net";
    k.discover(host, "someone_1_1736164800", T0);
    // Named, not yet served: not searched for other VODs, not saved.
    expect(k.discoveredDomains()).toEqual([]);
    k.failed(host, T0 + 1);
    await k.flush(t.db);
    expect((await DomainKnowledge.load(t.db, base)).discoveredDomains()).toEqual([]);

    k.found("1", host, "start", T0 + 2);
    expect(k.discoveredDomains()).toEqual([host]);
    expect(learned).toEqual([host]);
    await k.flush(t.db);
    expect((await DomainKnowledge.load(t.db, base)).discoveredDomains()).toEqual([host]);
  });

  it("never a dead domain, nor one the pattern refuses, whatever GQL names or serves", () => {
    const k = new DomainKnowledge({ ...base, discoverable: PATTERN });
    for (const host of [...DEAD_VOD_DOMAINS, "d0.evil.example"]) {
      k.discover(host, "someone_1_1736164800", T0);
      k.found("1", host, "start", T0 + 1);
    }
    expect(k.discoveredDomains()).toEqual([]);
    // The dead list is configuration: one named there is refused, the defaults no longer are.
    const custom = new DomainKnowledge({ ...base, deadDomains: ["d1otherdead1234.cloudfront.net"] });
    for (const host of ["d1otherdead1234.cloudfront.net", DEAD_VOD_DOMAINS[0]!]) {
      custom.discover(host, "someone_1_1736164800", T0);
      custom.found("1", host, "start", T0 + 1);
    }
    expect(custom.discoveredDomains()).toEqual([DEAD_VOD_DOMAINS[0]]);
  });

  it("read back, each is checked again: one the pattern no longer accepts, or now dead, is dropped with a warning", async () => {
    await truncate();
    const rows = ["d1goodhost1234.cloudfront.net", "cdn.evil.example", "d2e2de1etea730.cloudfront.net"].map(
      (domain) => ({
        domain,
        score: 1,
        scoredAt: new Date(T0),
        consecutiveFailures: 0,
        discoveredAt: new Date(T0),
        discoveredFrom: "someone_1_1736164800",
      }),
    );
    await t.db.insert(cdnDomainHealth).values(rows);
    const warns: string[] = [];
    const k = await DomainKnowledge.load(t.db, { ...base, discoverable: PATTERN, now: () => T0 }, recordingLog(warns));
    expect(k.discoveredDomains()).toEqual(["d1goodhost1234.cloudfront.net"]);
    expect(warns.sort()).toEqual([
      "cdn.evil.example: learned CDN domain dropped",
      "d2e2de1etea730.cloudfront.net: learned CDN domain dropped",
    ]);
  });

  it("expires after its time without a playlist from it; each hit, by any fetcher, starts it again", async () => {
    await truncate();
    let now = T0;
    const options: KnowledgeOptions = { ...base, discoverable: PATTERN, learnedTtlMs: 14 * DAY, now: () => now };
    const host = "d1expiring1234.cloudfront.net";
    const k = new DomainKnowledge(options);
    k.discover(host, "someone_1_1736164800", T0);
    k.found("1", host, "start", T0);
    now = T0 + 13 * DAY;
    expect(k.discoveredDomains()).toEqual([host]);
    k.found("1", host, "start", now);
    await k.flush(t.db);
    now = T0 + 26 * DAY;
    expect(k.discoveredDomains()).toEqual([host]);
    expect((await DomainKnowledge.load(t.db, options)).discoveredDomains()).toEqual([host]);
    now = T0 + 28 * DAY;
    expect(k.discoveredDomains()).toEqual([]);
    expect((await DomainKnowledge.load(t.db, options)).discoveredDomains()).toEqual([]);
  });
});
