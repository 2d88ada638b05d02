import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

export type PathKind = "playlist" | "segment" | "gql" | "other";
export type Outcome = number | "reset" | "blackhole";

export interface StatsSnapshot {
  since: string;
  total: number;
  requests: { domain: string; kind: PathKind; status: Outcome; count: number }[];
  byDomain: Record<string, number>;
  byKind: Record<string, number>;
  byStatus: Record<string, number>;
  /**
   * `maxPerSecond`: the most CDN arrivals in any one second. `maxIn900ms`: the same over 900 ms, which a
   * client spaced for its rate stays within even when arrivals bunch by up to 100 ms on their way (a
   * loaded event loop on either side); a client at 4/s where 3/s is allowed still shows 4 there.
   */
  cdn: { requests: number; maxPerSecond: number; maxIn900ms: number };
  /**
   * The simulator's own longest event-loop stall (ms) since the last reset: requests that arrive during
   * one are handled, and counted, together when it ends, so a stall bunches the arrivals it counts.
   */
  eventLoopMaxMs: number;
  gql: { requests: number; operations: number };
}

/** Request counters; the per-second peak uses wall time, since it is about a real client's real rate. */
export class Stats {
  #counts = new Map<string, number>();
  #since = Date.now();
  #cdnRequests = 0;
  #gqlRequests = 0;
  #gqlOperations = 0;
  #window: number[] = [];
  #head = 0;
  #head900 = 0;
  #maxPerSecond = 0;
  #maxIn900ms = 0;

  readonly #loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(private readonly wall: () => number = () => performance.now()) {
    this.#loop.enable();
  }

  /** Counts a CDN request as it arrives, for the one-second peak. */
  cdnArrival(): void {
    const t = this.wall();
    this.#cdnRequests++;
    const w = this.#window;
    w.push(t);
    while ((w[this.#head] as number) <= t - 1000) this.#head++;
    while ((w[this.#head900] as number) <= t - 900) this.#head900++;
    this.#maxPerSecond = Math.max(this.#maxPerSecond, w.length - this.#head);
    this.#maxIn900ms = Math.max(this.#maxIn900ms, w.length - this.#head900);
    if (this.#head > 1024 && this.#head * 2 > w.length) {
      w.splice(0, this.#head);
      this.#head900 -= this.#head;
      this.#head = 0;
    }
  }

  gqlArrival(operations: number): void {
    this.#gqlRequests++;
    this.#gqlOperations += operations;
  }

  record(domain: string, kind: PathKind, status: Outcome): void {
    const key = `${domain}\t${kind}\t${status}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  snapshot(): StatsSnapshot {
    const requests: StatsSnapshot["requests"] = [];
    const byDomain: Record<string, number> = {};
    const byKind: Record<string, number> = { playlist: 0, segment: 0, gql: 0, other: 0 };
    const byStatus: Record<string, number> = {};
    let total = 0;
    for (const [key, count] of [...this.#counts].sort(([a], [b]) => a.localeCompare(b))) {
      const [domain = "", kind = "other", raw = ""] = key.split("\t");
      const status: Outcome = /^\d+$/.test(raw) ? Number(raw) : (raw as Outcome);
      requests.push({ domain, kind: kind as PathKind, status, count });
      byDomain[domain] = (byDomain[domain] ?? 0) + count;
      byKind[kind] = (byKind[kind] ?? 0) + count;
      byStatus[raw] = (byStatus[raw] ?? 0) + count;
      total += count;
    }
    return {
      since: new Date(this.#since).toISOString(),
      total,
      requests,
      byDomain,
      byKind,
      byStatus,
      cdn: { requests: this.#cdnRequests, maxPerSecond: this.#maxPerSecond, maxIn900ms: this.#maxIn900ms },
      gql: { requests: this.#gqlRequests, operations: this.#gqlOperations },
      eventLoopMaxMs: Math.round(this.#loop.max / 1e6),
    };
  }

  reset(): void {
    this.#counts.clear();
    this.#since = Date.now();
    this.#cdnRequests = 0;
    this.#gqlRequests = 0;
    this.#gqlOperations = 0;
    this.#window = [];
    this.#head = 0;
    this.#head900 = 0;
    this.#maxPerSecond = 0;
    this.#maxIn900ms = 0;
    this.#loop.reset();
  }

  /** Stops sampling the event loop (the simulator closes). */
  close(): void {
    this.#loop.disable();
  }
}
