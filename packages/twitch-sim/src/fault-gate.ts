import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FaultSet } from "./faults.ts";
import { send } from "./http-io.ts";
import type { PathKind, Stats } from "./stats.ts";

/** Puts requests through the faults in force: delays, error answers, resets and connections held forever. */
export class FaultGate {
  readonly #held = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly faults: FaultSet,
    private readonly stats: Stats,
    /** Runs `fn` after `ms` of wall time instead of a timer (tests, to avoid waiting). */
    private readonly schedule?: (ms: number, fn: () => void) => void,
  ) {}

  /** Applies the faults to a request to `domain` (null for GQL); `proceed` runs only if it is to be answered normally. */
  pass(req: IncomingMessage, res: ServerResponse, domain: string | null, kind: PathKind, proceed: () => void): void {
    const statsDomain = domain ?? "gql";
    const verdict = this.faults.verdict(domain, req.socket.remoteAddress ?? "?");
    if (verdict.action === "blackhole") {
      this.stats.record(statsDomain, kind, "blackhole");
      this.#held.add(req.socket);
      req.socket.once("close", () => this.#held.delete(req.socket));
      return;
    }
    this.#later(verdict.delayMs, () => {
      if (verdict.action === "reset") {
        this.stats.record(statsDomain, kind, "reset");
        req.socket.resetAndDestroy();
      } else if (verdict.action === "status") {
        this.stats.record(statsDomain, kind, verdict.status);
        const body = verdict.status === 429 ? "Too Many Requests" : "Service Unavailable";
        send(res, verdict.status, { "content-type": "text/plain" }, body, req.method === "HEAD");
      } else proceed();
    });
  }

  /** Drops pending delayed answers and the connections held by blackholes. */
  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const s of this.#held) s.destroy();
    this.#held.clear();
  }

  #later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    if (this.schedule) return this.schedule(ms, fn);
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
}
