import type { Logger } from "@vod/log";
import { DEAD_VOD_DOMAINS } from "@vod/twitch";

export interface LearningOptions {
  /** Hosts that may be learned; a learned one read back that no longer matches is dropped. Absent: any. */
  discoverable?: RegExp;
  /** Hosts never learned, whatever GQL names or serves (default: the known-dead ones, FACTS.md). */
  deadDomains?: readonly string[];
  /** A learned domain is forgotten after this long (clock time) without a playlist served from it. Absent: never. */
  learnedTtlMs?: number;
  /** A domain was learned (its first playlist came from it). */
  onLearned?: (domain: string, from: string) => void;
}

/** Hosts GQL named that no playlist has come from yet, at most: the oldest are forgotten first. */
const MAX_CANDIDATES = 256;

export interface Discovered {
  /** When it was learned: learned domains are tried in this order. */
  at: number;
  /** The last playlist served from it (clock time); stored as the row's discovered_at. */
  lastHit: number;
  from: string;
}

/**
 * CDN domains learned beyond the configured ones: a host GQL named for a VOD is a candidate, and is
 * learned once a playlist came from it; a learned one is forgotten when no playlist came from it
 * within `learnedTtlMs`, or when it is dead or no longer matches `discoverable`.
 */
export class LearnedDomains {
  readonly #discovered = new Map<string, Discovered>();
  /** Hosts GQL named for a VOD (value: that VOD's key), learned once a playlist comes from one. */
  readonly #candidates = new Map<string, string>();
  readonly #dead: ReadonlySet<string>;
  /** Learned domains dropped on reading (warned about once). */
  readonly #dropped = new Set<string>();

  constructor(
    private readonly options: LearningOptions,
    private readonly log: Logger | undefined,
  ) {
    this.#dead = new Set(options.deadDomains ?? DEAD_VOD_DOMAINS);
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

  /** A learned domain as this process has it, for its row. */
  get(domain: string): Discovered | undefined {
    return this.#discovered.get(domain);
  }

  /**
   * A learned domain as Postgres has it (`lastHit`: its row's discovered_at, the latest of every
   * fetcher's hits). Checked again as it is read: the pattern or the dead list may have changed since.
   */
  read(domain: string, lastHit: number, from: string, now: number): void {
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
      this.log?.warn(
        { domain, reason: refusal, lastHit: new Date(d.lastHit).toISOString() },
        "learned CDN domain dropped",
      );
    }
  }

  /** The learned domains in the order learned, the expired ones dropped first. */
  list(now: number): string[] {
    for (const [domain, d] of this.#discovered) {
      if (!this.#expired(d, now)) continue;
      this.#discovered.delete(domain);
      this.#dropped.add(domain);
      this.log?.warn({ domain, lastHit: new Date(d.lastHit).toISOString() }, "learned CDN domain expired");
    }
    return [...this.#discovered].sort((a, b) => a[1].at - b[1].at).map(([d]) => d);
  }

  /** Notes a host GQL named for a VOD (`from`: its key), a candidate until a playlist comes from it. */
  named(domain: string, from: string): void {
    if (this.#discovered.has(domain) || this.#candidates.has(domain) || this.#refusal(domain) !== null) return;
    if (this.#candidates.size >= MAX_CANDIDATES) this.#candidates.delete(this.#candidates.keys().next().value!);
    this.#candidates.set(domain, from);
  }

  /** A playlist came from `domain`: a host GQL named is learned, a learned one's time runs again. */
  hit(domain: string, now: number): void {
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
    this.log?.info({ domain, from }, "learned a CDN domain: GQL named it and it served a playlist");
    this.options.onLearned?.(domain, from);
  }
}
