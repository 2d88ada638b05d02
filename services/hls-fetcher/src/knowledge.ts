import { LRUCache } from "lru-cache";
import { inArray, sql } from "drizzle-orm";
import { cdnDomainHealth, cdnStreamerDomains, withTransaction, type Db } from "@vod/db";
import type { Logger } from "@vod/log";
import { DEAD_VOD_DOMAINS, type TimestampVariant } from "@vod/twitch";

export interface KnowledgeOptions {
  /** Clock-time half-life of a domain's success score. */
  halfLifeMs: number;
  failureThreshold: number;
  cooldownMs: number;
  /** Streamers kept in memory (least recently used go first); the rest are looked up when a VOD of theirs comes. */
  streamerCacheSize?: number;
  /** How long a streamer's history read from Postgres is trusted before it is read again (other fetchers learn too). */
  streamerCacheTtlMs?: number;
  /** Hosts that may be learned; a learned one read back that no longer matches is dropped. Absent: any. */
  discoverable?: RegExp;
  /** Hosts never learned, whatever GQL names or serves (default: the known-dead ones, FACTS.md). */
  deadDomains?: readonly string[];
  /** A learned domain is forgotten after this long (clock time) without a playlist served from it. Absent: never. */
  learnedTtlMs?: number;
  /** Clock time, for expiry; default Date.now. */
  now?: () => number;
  /** A domain was learned (its first playlist came from it). */
  onLearned?: (domain: string, from: string) => void;
}

/** Hosts GQL named that no playlist has come from yet, at most: the oldest are forgotten first. */
const MAX_CANDIDATES = 256;

interface Health {
  score: number;
  scoredAt: number;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

export type DomainState = "closed" | "open" | "probe" | "probing";

/** How a streamer's VODs turned out so far: the prior for the next one. */
export interface StreamerHistory {
  /** The domain that last served one of its VODs; null until one is found. */
  domain: string | null;
  foundAt: number | null;
  found: number;
  notFound: number;
  /** Found on the CDN while GQL did not list them: the streamer hides its VODs. */
  unlistedFound: number;
  /** Last CDN search for one of its VODs (at least one request). */
  checkedAt: number | null;
}

interface Discovered {
  /** When it was learned: learned domains are tried in this order. */
  at: number;
  /** The last playlist served from it (clock time); stored as the row's discovered_at. */
  lastHit: number;
  from: string;
}

/** What this process learned of a streamer since its last flush (same fields): added to the row in Postgres, never written over it. */
type StreamerDelta = StreamerHistory;

/** What this process learned of a domain since its last flush. */
interface HealthDelta {
  /** Score gained, decayed to `scoredAt`. */
  score: number;
  scoredAt: number;
  /** Failures after this process's last success on it (all of them when `lastSuccessAt` is null). */
  failures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

interface StreamerEntry {
  history: StreamerHistory;
  /** Read from Postgres (false: built from this process's own events while Postgres could not be read). */
  loaded: boolean;
}

const emptyHistory = (): StreamerHistory => ({
  domain: null,
  foundAt: null,
  found: 0,
  notFound: 0,
  unlistedFound: 0,
  checkedAt: null,
});
const later = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** `h` with `d` learned after it: counts added, the domain of the latest find, the latest times. */
function withDelta(h: StreamerHistory, d: StreamerDelta): StreamerHistory {
  const newer = d.foundAt !== null && (h.foundAt === null || d.foundAt >= h.foundAt);
  return {
    domain: newer ? d.domain : h.domain,
    foundAt: later(h.foundAt, d.foundAt),
    found: h.found + d.found,
    notFound: h.notFound + d.notFound,
    unlistedFound: h.unlistedFound + d.unlistedFound,
    checkedAt: later(h.checkedAt, d.checkedAt),
  };
}

/** A domain's health with another process's delta merged in; the same rule as the upsert in `flush`. */
function healthWithDelta(h: Health, d: HealthDelta, halfLifeMs: number): Health {
  const decay = (ms: number) => 2 ** (-Math.abs(ms) / halfLifeMs);
  const score =
    d.scoredAt >= h.scoredAt
      ? h.score * decay(d.scoredAt - h.scoredAt) + d.score
      : h.score + d.score * decay(h.scoredAt - d.scoredAt);
  const succeededSince = d.lastSuccessAt !== null && d.lastSuccessAt >= (h.lastSuccessAt ?? -Infinity);
  return {
    score,
    scoredAt: Math.max(h.scoredAt, d.scoredAt),
    consecutiveFailures: succeededSince ? d.failures : h.consecutiveFailures + d.failures,
    lastSuccessAt: later(h.lastSuccessAt, d.lastSuccessAt),
    lastFailureAt: later(h.lastFailureAt, d.lastFailureAt),
  };
}

/** Two deltas of one domain as one, `b` learned after `a`. */
function mergeHealthDeltas(a: HealthDelta, b: HealthDelta, halfLifeMs: number): HealthDelta {
  const merged = healthWithDelta({ ...a, consecutiveFailures: a.failures }, b, halfLifeMs);
  return {
    score: merged.score,
    scoredAt: merged.scoredAt,
    failures: merged.consecutiveFailures,
    lastSuccessAt: merged.lastSuccessAt,
    lastFailureAt: merged.lastFailureAt,
  };
}

/** Deltas held while Postgres is away, at most; the oldest are dropped (knowledge orders requests, it decides no outcome). */
const MAX_PENDING_STREAMERS = 100_000;

/**
 * What the fetcher learns: which domain last served each streamer, and each domain's health
 * (a decaying success score, failures in a row). Every fetcher of a group learns, so what one
 * learned is written to Postgres as a delta merged into the row (counts added, the latest domain
 * kept, scores decayed and summed), never over another's. Streamers are looked up when their VODs
 * come (`warm`) and kept in an LRU cache, so memory stays flat however many streamers there are;
 * domains (a few dozen) are kept whole and read back after each flush. Without Postgres the
 * fetcher goes on with what it has in memory: the order of its requests is worse, its outcomes are not.
 */
export class DomainKnowledge {
  readonly #streamers: LRUCache<string, StreamerEntry>;
  readonly #pendingStreamers = new Map<string, StreamerDelta>();
  readonly #discovered = new Map<string, Discovered>();
  /** Hosts GQL named for a VOD (value: that VOD's key), learned once a playlist comes from one. */
  readonly #candidates = new Map<string, string>();
  readonly #dead: ReadonlySet<string>;
  /** Learned domains dropped on reading (warned about once). */
  readonly #dropped = new Set<string>();
  readonly #health = new Map<string, Health>();
  readonly #pendingHealth = new Map<string, HealthDelta>();
  readonly #probing = new Map<string, { at: number; settled: Promise<void>; settle: () => void }>();
  readonly #variantHits: Record<TimestampVariant, number> = { start: 0, minus1: 0, seconds: 0 };
  #db: Db | undefined;
  #log: Logger | undefined;
  #lastWarnAt = -Infinity;
  #domainsReadAt = -Infinity;
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: KnowledgeOptions) {
    this.#streamers = new LRUCache({
      max: options.streamerCacheSize ?? 100_000,
      ttl: options.streamerCacheTtlMs ?? 10 * 60_000,
      updateAgeOnGet: false,
    });
    this.#dead = new Set(options.deadDomains ?? DEAD_VOD_DOMAINS);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Why a host may not be (or stay) learned; null when it may. */
  #refusal(domain: string): string | null {
    if (this.#dead.has(domain)) return "a known-dead domain";
    if (this.options.discoverable && !this.options.discoverable.test(domain))
      return "no longer matches CDN_DISCOVERABLE";
    return null;
  }

  #expired(d: Discovered, now: number): boolean {
    return this.options.learnedTtlMs !== undefined && now - d.lastHit > this.options.learnedTtlMs;
  }

  /** Domain health and learned domains are read now; streamers as their VODs come (`warm`). */
  static async load(db: Db, options: KnowledgeOptions, log?: Logger): Promise<DomainKnowledge> {
    const k = new DomainKnowledge(options);
    k.#db = db;
    k.#log = log;
    await k.#readDomains(db);
    return k;
  }

  async #readDomains(db: Db): Promise<void> {
    this.#domainsReadAt = performance.now();
    const rows = await db.select().from(cdnDomainHealth);
    const now = this.#now();
    for (const r of rows) {
      if (r.discoveredAt) this.#readLearned(r.domain, r.discoveredAt.getTime(), r.discoveredFrom ?? "", now);
      const base: Health = {
        score: r.score,
        scoredAt: r.scoredAt.getTime(),
        consecutiveFailures: r.consecutiveFailures,
        lastSuccessAt: r.lastSuccessAt?.getTime() ?? null,
        lastFailureAt: r.lastFailureAt?.getTime() ?? null,
      };
      const pending = this.#pendingHealth.get(r.domain);
      this.#health.set(r.domain, pending ? healthWithDelta(base, pending, this.options.halfLifeMs) : base);
    }
  }

  /**
   * A learned domain as Postgres has it (`lastHit`: its row's discovered_at, the latest of every
   * fetcher's hits). Checked again as it is read: the pattern or the dead list may have changed since.
   */
  #readLearned(domain: string, lastHit: number, from: string, now: number): void {
    const known = this.#discovered.get(domain);
    const d: Discovered = known
      ? { ...known, lastHit: Math.max(known.lastHit, lastHit) }
      : { at: lastHit, lastHit, from };
    const refusal = this.#refusal(domain) ?? (this.#expired(d, now) ? "no playlist from it within its time" : null);
    if (refusal === null) {
      this.#discovered.set(domain, d);
    } else if (known || !this.#dropped.has(domain)) {
      this.#discovered.delete(domain);
      this.#dropped.add(domain);
      this.#log?.warn(
        { domain, reason: refusal, lastHit: new Date(d.lastHit).toISOString() },
        "learned CDN domain dropped",
      );
    }
  }

  /**
   * Reads the history of these streamers that is not in memory (or is older than the cache's ttl) in
   * one query. Postgres failing is logged and ignored: the search goes on without their history.
   */
  async warm(streamerIds: readonly string[]): Promise<void> {
    const db = this.#db;
    if (!db) return;
    const wanted = [...new Set(streamerIds)].filter((id) => /^\d+$/.test(id) && !this.#streamers.get(id)?.loaded);
    if (wanted.length === 0) return;
    try {
      const rows = await db
        .select()
        .from(cdnStreamerDomains)
        .where(inArray(cdnStreamerDomains.streamerId, wanted.map(Number)));
      const byId = new Map(rows.map((r) => [String(r.streamerId), r]));
      for (const id of wanted) {
        const r = byId.get(id);
        const base: StreamerHistory = r
          ? {
              domain: r.domain,
              foundAt: r.foundAt?.getTime() ?? null,
              found: r.foundCount,
              notFound: r.notFoundCount,
              unlistedFound: r.unlistedFoundCount,
              checkedAt: r.checkedAt?.getTime() ?? null,
            }
          : emptyHistory();
        const pending = this.#pendingStreamers.get(id);
        this.#streamers.set(id, { history: pending ? withDelta(base, pending) : base, loaded: true });
      }
    } catch (err) {
      // At most one warning a minute while Postgres is away.
      if (performance.now() - this.#lastWarnAt > 60_000) {
        this.#lastWarnAt = performance.now();
        this.#log?.warn(
          { err },
          "reading streamer knowledge failed; searching without it (worse order, same outcomes)",
        );
      }
    }
  }

  /** Streamers in memory now (bounded by the cache). */
  get streamersKnown(): number {
    return this.#streamers.size;
  }

  streamerDomain(streamerId: string): string | undefined {
    return this.#streamers.get(streamerId)?.history.domain ?? undefined;
  }

  history(streamerId: string): Readonly<StreamerHistory> | undefined {
    return this.#streamers.get(streamerId)?.history;
  }

  /**
   * Domains learned that are not configured, in the order learned: each served a playlist, the last
   * within `learnedTtlMs`.
   */
  discoveredDomains(): string[] {
    const now = this.#now();
    for (const [domain, d] of this.#discovered) {
      if (!this.#expired(d, now)) continue;
      this.#discovered.delete(domain);
      this.#dropped.add(domain);
      this.#log?.warn({ domain, lastHit: new Date(d.lastHit).toISOString() }, "learned CDN domain expired");
    }
    return [...this.#discovered].sort((a, b) => a[1].at - b[1].at).map(([d]) => d);
  }

  /**
   * Notes a host GQL named for a VOD (`from`: its key). GQL's word is no evidence: the host is learned
   * (searched for every VOD) only once a playlist came from it (`found`). Returns false: nothing is learned here.
   */
  discover(domain: string, from: string, _now: number): boolean {
    if (this.#discovered.has(domain) || this.#candidates.has(domain) || this.#refusal(domain) !== null) return false;
    if (this.#candidates.size >= MAX_CANDIDATES) this.#candidates.delete(this.#candidates.keys().next().value!);
    this.#candidates.set(domain, from);
    return false;
  }

  /** A playlist came from `domain`: a host GQL named is learned, a learned one's time runs again. */
  #hitLearned(domain: string, now: number): void {
    const learned = this.#discovered.get(domain);
    if (learned) {
      learned.lastHit = Math.max(learned.lastHit, now);
      return;
    }
    const from = this.#candidates.get(domain);
    if (from === undefined || this.#refusal(domain) !== null) return;
    this.#candidates.delete(domain);
    this.#dropped.delete(domain);
    this.#discovered.set(domain, { at: now, lastHit: now, from });
    this.#log?.info({ domain, from }, "learned a CDN domain: GQL named it and it served a playlist");
    this.options.onLearned?.(domain, from);
  }

  /** A VOD of the streamer was not found (`searched`: at least one CDN request was made for it). */
  notFound(streamerId: string, searched: boolean, now: number): void {
    const h = this.#historyOf(streamerId);
    const d = this.#streamerDelta(streamerId);
    h.notFound++;
    d.notFound++;
    if (searched) h.checkedAt = d.checkedAt = now;
  }

  #historyOf(streamerId: string): StreamerHistory {
    const entry = this.#streamers.get(streamerId);
    if (entry) return entry.history;
    // Not looked up (Postgres away, or no database): what this process saw itself, read again by the next warm().
    const pending = this.#pendingStreamers.get(streamerId);
    const history = pending ? withDelta(emptyHistory(), pending) : emptyHistory();
    this.#streamers.set(streamerId, { history, loaded: false });
    return history;
  }

  #streamerDelta(streamerId: string): StreamerDelta {
    let d = this.#pendingStreamers.get(streamerId);
    if (!d) {
      if (this.#pendingStreamers.size >= MAX_PENDING_STREAMERS) {
        const oldest = this.#pendingStreamers.keys().next().value;
        if (oldest !== undefined) this.#pendingStreamers.delete(oldest);
      }
      this.#pendingStreamers.set(streamerId, (d = emptyHistory()));
    }
    return d;
  }

  #deltaOf(domain: string, now: number): HealthDelta {
    let d = this.#pendingHealth.get(domain);
    if (!d)
      this.#pendingHealth.set(
        domain,
        (d = { score: 0, scoredAt: now, failures: 0, lastSuccessAt: null, lastFailureAt: null }),
      );
    return d;
  }

  /** The success score decayed to `now`. */
  score(domain: string, now: number): number {
    const h = this.#health.get(domain);
    if (!h) return 0;
    return h.score * 2 ** (-Math.max(0, now - h.scoredAt) / this.options.halfLifeMs);
  }

  /** Hits per timestamp variant seen by this process, for ordering the variants. */
  variantHits(): Readonly<Record<TimestampVariant, number>> {
    return this.#variantHits;
  }

  /**
   * closed: use it. open: failing; skip it until the cooldown passes. probe: the cooldown passed and
   * this caller's one request tests it. probing: another caller's test is in flight; wait for
   * `probeSettled` and ask again, rather than give up on a domain that may be back.
   */
  state(domain: string, now: number): DomainState {
    const h = this.#health.get(domain);
    if (!h || h.consecutiveFailures < this.options.failureThreshold) return "closed";
    if (h.lastFailureAt !== null && now - h.lastFailureAt < this.options.cooldownMs) return "open";
    // One probe at a time; a probe that never reported back expires after a cooldown.
    const probe = this.#probing.get(domain);
    if (probe !== undefined && now - probe.at < this.options.cooldownMs) return "probing";
    probe?.settle();
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.#probing.set(domain, { at: now, settled, settle });
    return "probe";
  }

  /** Resolves once the probe in flight on `domain` has reported back (at once when there is none). */
  probeSettled(domain: string): Promise<void> {
    return this.#probing.get(domain)?.settled ?? Promise.resolve();
  }

  /** Ends the probe on `domain` whatever its answer was (a 429, or an aborted request, says nothing of the domain). */
  endProbe(domain: string): void {
    this.#probing.get(domain)?.settle();
    this.#probing.delete(domain);
  }

  /** A VOD of the streamer was found on `domain`; `listed`: GQL listed it. */
  found(streamerId: string, domain: string, variant: TimestampVariant, now: number, listed = false): void {
    const s = this.#historyOf(streamerId);
    const sd = this.#streamerDelta(streamerId);
    s.domain = sd.domain = domain;
    s.foundAt = sd.foundAt = now;
    s.checkedAt = sd.checkedAt = now;
    s.found++;
    sd.found++;
    if (!listed) {
      s.unlistedFound++;
      sd.unlistedFound++;
    }
    this.#variantHits[variant]++;
    this.#hitLearned(domain, now);
    const h = this.#healthOf(domain, now);
    h.score = this.score(domain, now) + 1;
    h.scoredAt = now;
    // answered() leaves a domain that succeeded a moment ago alone; the score changed all the same.
    const d = this.#deltaOf(domain, now);
    d.score = d.score * 2 ** (-Math.max(0, now - d.scoredAt) / this.options.halfLifeMs) + 1;
    d.scoredAt = Math.max(d.scoredAt, now);
    this.answered(domain, now);
  }

  /** The domain answered (a hit or a clean 403/404): it is healthy. */
  answered(domain: string, now: number): void {
    const h = this.#healthOf(domain, now);
    this.endProbe(domain);
    if (h.consecutiveFailures === 0 && h.lastSuccessAt !== null && now - h.lastSuccessAt < 60_000) return;
    h.consecutiveFailures = 0;
    h.lastSuccessAt = now;
    const d = this.#deltaOf(domain, now);
    d.failures = 0;
    d.lastSuccessAt = now;
  }

  failed(domain: string, now: number): void {
    const h = this.#healthOf(domain, now);
    h.consecutiveFailures++;
    h.lastFailureAt = now;
    const d = this.#deltaOf(domain, now);
    d.failures++;
    d.lastFailureAt = now;
    this.endProbe(domain);
  }

  #healthOf(domain: string, now: number): Health {
    let h = this.#health.get(domain);
    if (!h)
      this.#health.set(
        domain,
        (h = { score: 0, scoredAt: now, consecutiveFailures: 0, lastSuccessAt: null, lastFailureAt: null }),
      );
    return h;
  }

  /**
   * Adds what was learned since the last flush to the rows in Postgres (merged with what other
   * fetchers wrote), then reads the domains back. On failure the deltas are kept for the next one.
   */
  flush(db: Db): Promise<void> {
    // One at a time: batches of several partitions flush at once, and two transactions upserting
    // the same rows in different orders could deadlock.
    const run = this.#flushing.catch(() => undefined).then(() => this.#flushOnce(db));
    this.#flushing = run;
    return run;
  }

  async #flushOnce(db: Db): Promise<void> {
    const streamers = [...this.#pendingStreamers];
    const domains = [...this.#pendingHealth];
    if (streamers.length === 0 && domains.length === 0) {
      // Nothing to write: read the other fetchers' view of the domains now and then, not every round.
      if (performance.now() - this.#domainsReadAt < 10_000) return;
      return this.#readDomains(db);
    }
    this.#pendingStreamers.clear();
    this.#pendingHealth.clear();
    const date = (ms: number | null) => (ms === null ? null : new Date(ms));
    const t = cdnStreamerDomains;
    const h = cdnDomainHealth;
    try {
      await withTransaction(db, async (tx) => {
        for (let i = 0; i < streamers.length; i += 1_000) {
          const rows = streamers.slice(i, i + 1_000).map(([id, d]) => ({
            streamerId: Number(id),
            domain: d.domain,
            foundAt: date(d.foundAt),
            foundCount: d.found,
            notFoundCount: d.notFound,
            unlistedFoundCount: d.unlistedFound,
            checkedAt: date(d.checkedAt),
          }));
          await tx
            .insert(t)
            .values(rows)
            .onConflictDoUpdate({
              target: t.streamerId,
              set: {
                domain: sql`CASE WHEN excluded.found_at IS NOT NULL AND (${t.foundAt} IS NULL OR excluded.found_at >= ${t.foundAt}) THEN excluded.domain ELSE ${t.domain} END`,
                foundAt: sql`greatest(${t.foundAt}, excluded.found_at)`,
                foundCount: sql`${t.foundCount} + excluded.found_count`,
                notFoundCount: sql`${t.notFoundCount} + excluded.not_found_count`,
                unlistedFoundCount: sql`${t.unlistedFoundCount} + excluded.unlisted_found_count`,
                checkedAt: sql`greatest(${t.checkedAt}, excluded.checked_at)`,
              },
            });
        }
        if (domains.length > 0) {
          const half = this.options.halfLifeMs;
          // Seconds between the two scores' times, decayed by the half-life: the same rule as healthWithDelta.
          const decay = (a: unknown, b: unknown) =>
            sql`power(2::float8, -abs(extract(epoch from (${a} - ${b}))) * 1000 / ${half}::float8)`;
          const rows = domains.map(([domain, d]) => {
            const found = this.#discovered.get(domain);
            return {
              domain,
              score: d.score,
              scoredAt: new Date(d.scoredAt),
              consecutiveFailures: d.failures,
              lastSuccessAt: date(d.lastSuccessAt),
              lastFailureAt: date(d.lastFailureAt),
              discoveredAt: found ? new Date(found.lastHit) : null,
              discoveredFrom: found?.from ?? null,
            };
          });
          await tx
            .insert(h)
            .values(rows)
            .onConflictDoUpdate({
              target: h.domain,
              set: {
                score: sql`CASE WHEN excluded.scored_at >= ${h.scoredAt} THEN ${h.score} * ${decay(sql`excluded.scored_at`, h.scoredAt)} + excluded.score ELSE ${h.score} + excluded.score * ${decay(h.scoredAt, sql`excluded.scored_at`)} END`,
                scoredAt: sql`greatest(${h.scoredAt}, excluded.scored_at)`,
                // Failures in a row: this process's count when it saw a success at least as late as any other, else added.
                consecutiveFailures: sql`CASE WHEN excluded.last_success_at IS NOT NULL AND excluded.last_success_at >= coalesce(${h.lastSuccessAt}, '-infinity') THEN excluded.consecutive_failures ELSE ${h.consecutiveFailures} + excluded.consecutive_failures END`,
                lastSuccessAt: sql`greatest(${h.lastSuccessAt}, excluded.last_success_at)`,
                lastFailureAt: sql`greatest(${h.lastFailureAt}, excluded.last_failure_at)`,
                // A learned domain's last hit by any fetcher: what its expiry counts from.
                discoveredAt: sql`greatest(${h.discoveredAt}, excluded.discovered_at)`,
                discoveredFrom: sql`coalesce(${h.discoveredFrom}, excluded.discovered_from)`,
              },
            });
        }
      });
    } catch (err) {
      // Kept for the next flush, merged with whatever was learned meanwhile.
      for (const [id, d] of streamers) {
        const newer = this.#pendingStreamers.get(id);
        this.#pendingStreamers.set(id, newer ? withDelta(d, newer) : d);
      }
      for (const [domain, d] of domains) {
        const newer = this.#pendingHealth.get(domain);
        this.#pendingHealth.set(domain, newer ? mergeHealthDeltas(d, newer, this.options.halfLifeMs) : d);
      }
      throw err;
    }
    // What the other fetchers learned of the domains (a few dozen rows), with this process's newer deltas on top.
    await this.#readDomains(db).catch(() => undefined);
  }
}
