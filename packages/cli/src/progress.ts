// One progress line for a long run: redrawn in place on a terminal, printed every few seconds
// otherwise (a log file or CI keeps a readable history instead of carriage returns).

export interface ProgressOutput {
  isTTY?: boolean;
  write: (text: string) => unknown;
}

export interface ProgressOptions {
  total: number;
  /** Already done when the run began (a resumed run): left out of the rate. */
  doneAtStart?: number;
  now?: () => number;
  /** Least time between two lines: 100 ms on a terminal, 5 s otherwise. */
  everyMs?: number;
}

export class Progress {
  readonly #out: ProgressOutput;
  readonly #total: number;
  readonly #doneAtStart: number;
  readonly #now: () => number;
  readonly #everyMs: number;
  readonly #startedAt: number;
  #lastAt = -Infinity;
  #drawn = false;

  constructor(out: ProgressOutput, o: ProgressOptions) {
    this.#out = out;
    this.#total = o.total;
    this.#doneAtStart = o.doneAtStart ?? 0;
    this.#now = o.now ?? Date.now;
    this.#everyMs = o.everyMs ?? (out.isTTY ? 100 : 5_000);
    this.#startedAt = this.#now();
  }

  /** Seconds since the run began. */
  elapsed(): number {
    return (this.#now() - this.#startedAt) / 1000;
  }

  /** Seconds left at the rate so far; null before anything was done in this run. */
  eta(done: number): number | null {
    const doneHere = done - this.#doneAtStart;
    if (doneHere <= 0) return null;
    return ((this.#total - done) * this.elapsed()) / doneHere;
  }

  /** Draws `label done/total · parts… · ETA`, unless one was drawn less than `everyMs` ago (`force`: always). */
  update(label: string, done: number, parts: readonly string[] = [], force = false): void {
    const at = this.#now();
    if (!force && at - this.#lastAt < this.#everyMs) return;
    this.#lastAt = at;
    const eta = this.eta(done);
    const line = [`${label} ${done}/${this.#total}`, ...parts, `ETA ${eta === null ? "?" : clock(eta)}`].join(" · ");
    if (this.#out.isTTY) {
      this.#out.write(`\r${line}\x1b[K`);
      this.#drawn = true;
    } else this.#out.write(`${line}\n`);
  }

  /** Ends the redrawn line so what follows starts on its own. */
  end(): void {
    if (this.#drawn) this.#out.write("\n");
    this.#drawn = false;
  }
}

/** Seconds as H:MM:SS or M:SS. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Bytes as MB with one decimal. */
export const megabytes = (bytes: number): string => `${(bytes / 1_000_000).toFixed(1)} MB`;
