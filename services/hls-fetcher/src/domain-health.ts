import { PendingDeltas } from "./pending-deltas.ts";
import { later } from "./streamer-history.ts";

/** A domain's health: a decaying success score and its failures in a row. */
export interface Health {
  score: number;
  scoredAt: number;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

/** What this process learned of a domain since its last flush. */
export interface HealthDelta {
  /** Score gained, decayed to `scoredAt`. */
  score: number;
  scoredAt: number;
  /** Failures after this process's last success on it (all of them when `lastSuccessAt` is null). */
  failures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

export type DomainState = "closed" | "open" | "probe" | "probing";

export interface HealthOptions {
  /** Clock-time half-life of a domain's success score. */
  halfLifeMs: number;
  failureThreshold: number;
  cooldownMs: number;
}

/** A domain's health with another process's delta merged in; the same rule as the upsert in `writeKnowledge`. */
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

/**
 * Each domain's health (a few dozen, kept whole) and the circuit it drives: a domain failing
 * `failureThreshold` times in a row is skipped for `cooldownMs`, then one request probes it.
 * What this process learned since its last flush is kept as deltas beside it.
 */
export class DomainHealth {
  readonly #health = new Map<string, Health>();
  readonly #pending = new PendingDeltas<HealthDelta>((a, b) => mergeHealthDeltas(a, b, this.options.halfLifeMs));
  readonly #probing = new Map<string, { at: number; settled: Promise<void>; settle: () => void }>();

  constructor(private readonly options: HealthOptions) {}

  /** A domain's health as Postgres has it, with what this process learned since its last flush on top. */
  read(domain: string, base: Health): void {
    const pending = this.#pending.get(domain);
    this.#health.set(domain, pending ? healthWithDelta(base, pending, this.options.halfLifeMs) : base);
  }

  /** The success score decayed to `now`. */
  score(domain: string, now: number): number {
    const h = this.#health.get(domain);
    if (!h) return 0;
    return h.score * 2 ** (-Math.max(0, now - h.scoredAt) / this.options.halfLifeMs);
  }

  /** A playlist came from `domain`: its score gains one. */
  scored(domain: string, now: number): void {
    const h = this.#healthOf(domain, now);
    h.score = this.score(domain, now) + 1;
    h.scoredAt = now;
    // answered() leaves a domain that succeeded a moment ago alone; the score changed all the same.
    const d = this.#deltaOf(domain, now);
    d.score = d.score * 2 ** (-Math.max(0, now - d.scoredAt) / this.options.halfLifeMs) + 1;
    d.scoredAt = Math.max(d.scoredAt, now);
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

  /** The deltas to write, taken out: `restore` puts them back if the write fails. */
  take(): [string, HealthDelta][] {
    return this.#pending.take();
  }

  /** Deltas a failed flush took, kept for the next one, merged with whatever was learned meanwhile. */
  restore(deltas: readonly [string, HealthDelta][]): void {
    this.#pending.restore(deltas);
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

  #deltaOf(domain: string, now: number): HealthDelta {
    let d = this.#pending.get(domain);
    if (!d)
      this.#pending.set(
        domain,
        (d = { score: 0, scoredAt: now, failures: 0, lastSuccessAt: null, lastFailureAt: null }),
      );
    return d;
  }
}
