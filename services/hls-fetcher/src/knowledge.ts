import type { Db } from "@vod/db";
import type { Logger } from "@vod/log";
import type { TimestampVariant } from "@vod/twitch";
import { DomainHealth, type DomainState } from "./domain-health.ts";
import { readDomainRows, readStreamerRows, writeKnowledge } from "./knowledge-store.ts";
import { LearnedDomains, type LearningOptions } from "./learned-domains.ts";
import { emptyHistory, StreamerHistories, type StreamerHistory } from "./streamer-history.ts";

export type { DomainState } from "./domain-health.ts";
export type { StreamerHistory } from "./streamer-history.ts";

export interface KnowledgeOptions extends LearningOptions {
  /** Clock-time half-life of a domain's success score. */
  halfLifeMs: number;
  failureThreshold: number;
  cooldownMs: number;
  /** Streamers kept in memory (least recently used go first); the rest are looked up when a VOD of theirs comes. */
  streamerCacheSize?: number;
  /** How long a streamer's history read from Postgres is trusted before it is read again (other fetchers learn too). */
  streamerCacheTtlMs?: number;
  /** Clock time, for expiry; default Date.now. */
  now?: () => number;
}

/**
 * What the fetcher learns: which domain last served each streamer, and each domain's health
 * (a decaying success score, failures in a row). Every fetcher of a group learns, so what one
 * learned is written to Postgres as a delta merged into the row (counts added, the latest domain
 * kept, scores decayed and summed), never over another's. Streamers are looked up when their VODs
 * come (`warm`) and kept in an LRU cache, so memory stays flat however many streamers there are;
 * domains (a few dozen) are kept whole and read back after each flush. Without Postgres the
 * fetcher goes on with what it has in memory: the order of its requests is worse, its outcomes are not.
 *
 * The parts: `StreamerHistories` (streamers), `DomainHealth` (scores and the circuit),
 * `LearnedDomains` (domains GQL taught), `knowledge-store.ts` (the rows in Postgres).
 */
export class DomainKnowledge {
  readonly #streamers: StreamerHistories;
  readonly #health: DomainHealth;
  readonly #learned: LearnedDomains;
  readonly #variantHits: Record<TimestampVariant, number> = { start: 0, minus1: 0, seconds: 0 };
  #db: Db | undefined;
  readonly #log: Logger | undefined;
  #lastWarnAt = -Infinity;
  #domainsReadAt = -Infinity;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: KnowledgeOptions,
    log?: Logger,
  ) {
    this.#log = log;
    this.#streamers = new StreamerHistories(
      options.streamerCacheSize ?? 100_000,
      options.streamerCacheTtlMs ?? 10 * 60_000,
    );
    this.#health = new DomainHealth(options);
    this.#learned = new LearnedDomains(options, log);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Domain health and learned domains are read now; streamers as their VODs come (`warm`). */
  static async load(db: Db, options: KnowledgeOptions, log?: Logger): Promise<DomainKnowledge> {
    const k = new DomainKnowledge(options, log);
    k.#db = db;
    await k.#readDomains(db);
    return k;
  }

  async #readDomains(db: Db): Promise<void> {
    this.#domainsReadAt = performance.now();
    const rows = await readDomainRows(db);
    const now = this.#now();
    for (const r of rows) {
      if (r.learned) this.#learned.read(r.domain, r.learned.lastHit, r.learned.from, now);
      this.#health.read(r.domain, r.health);
    }
  }

  /**
   * Reads the history of these streamers that is not in memory (or is older than the cache's ttl) in
   * one query. Postgres failing is logged and ignored: the search goes on without their history.
   */
  async warm(streamerIds: readonly string[]): Promise<void> {
    const db = this.#db;
    if (!db) return;
    const wanted = this.#streamers.unloaded(streamerIds);
    if (wanted.length === 0) return;
    try {
      const rows = await readStreamerRows(db, wanted);
      for (const id of wanted) this.#streamers.loaded(id, rows.get(id) ?? emptyHistory());
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
    return this.#streamers.get(streamerId)?.domain ?? undefined;
  }

  history(streamerId: string): Readonly<StreamerHistory> | undefined {
    return this.#streamers.get(streamerId);
  }

  /**
   * Domains learned that are not configured, in the order learned: each served a playlist, the last
   * within `learnedTtlMs`.
   */
  discoveredDomains(): string[] {
    return this.#learned.list(this.#now());
  }

  /**
   * Notes a host GQL named for a VOD (`from`: its key). GQL's word is no evidence: the host is learned
   * (searched for every VOD) only once a playlist came from it (`found`). Returns false: nothing is learned here.
   */
  discover(domain: string, from: string, _now: number): boolean {
    this.#learned.named(domain, from);
    return false;
  }

  /** A VOD of the streamer was not found (`searched`: at least one CDN request was made for it). */
  notFound(streamerId: string, searched: boolean, now: number): void {
    this.#streamers.notFound(streamerId, searched, now);
  }

  /** The success score decayed to `now`. */
  score(domain: string, now: number): number {
    return this.#health.score(domain, now);
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
    return this.#health.state(domain, now);
  }

  /** Resolves once the probe in flight on `domain` has reported back (at once when there is none). */
  probeSettled(domain: string): Promise<void> {
    return this.#health.probeSettled(domain);
  }

  /** Ends the probe on `domain` whatever its answer was (a 429, or an aborted request, says nothing of the domain). */
  endProbe(domain: string): void {
    this.#health.endProbe(domain);
  }

  /** A VOD of the streamer was found on `domain`; `listed`: GQL listed it. */
  found(streamerId: string, domain: string, variant: TimestampVariant, now: number, listed = false): void {
    this.#streamers.found(streamerId, domain, now, listed);
    this.#variantHits[variant]++;
    this.#learned.hit(domain, now);
    this.#health.scored(domain, now);
    this.answered(domain, now);
  }

  /** The domain answered (a hit or a clean 403/404): it is healthy. */
  answered(domain: string, now: number): void {
    this.#health.answered(domain, now);
  }

  failed(domain: string, now: number): void {
    this.#health.failed(domain, now);
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
    const streamers = this.#streamers.take();
    const domains = this.#health.take();
    if (streamers.length === 0 && domains.length === 0) {
      // Nothing to write: read the other fetchers' view of the domains now and then, not every round.
      if (performance.now() - this.#domainsReadAt < 10_000) return;
      return this.#readDomains(db);
    }
    try {
      await writeKnowledge(db, streamers, domains, this.options.halfLifeMs, (domain) => this.#learned.get(domain));
    } catch (err) {
      // Kept for the next flush, merged with whatever was learned meanwhile.
      this.#streamers.restore(streamers);
      this.#health.restore(domains);
      throw err;
    }
    // What the other fetchers learned of the domains (a few dozen rows), with this process's newer deltas on top.
    await this.#readDomains(db).catch(() => undefined);
  }
}
