export interface BlockOptions {
  /** This many 403s on VODs GQL lists, within `windowMs`, with no listed VOD served between: a block. */
  threshold: number;
  windowMs: number;
  /** A block is assumed to last at least this long (clock time) after its last 403. */
  holdMs: number;
  /** Called when a block starts (the limiter slows down). */
  onBlock?: () => void;
}

/**
 * CloudFront's WAF answers 403, the same status as a missing key. A VOD that GQL lists is on the
 * CDN, so a run of 403s for listed VODs means we are refused: while it lasts nothing is concluded
 * missing (outcomes are `failed` and retried), and the limiter slows down.
 */
export class BlockDetector {
  #recent: number[] = [];
  #until = -Infinity;

  constructor(private readonly options: BlockOptions) {}

  listed403(now: number): void {
    this.#recent = this.#recent.filter((t) => now - t < this.options.windowMs);
    this.#recent.push(now);
    if (this.#recent.length >= this.options.threshold) {
      const starting = !this.active(now);
      this.#until = now + this.options.holdMs;
      if (starting) this.options.onBlock?.();
    }
  }

  /** A listed VOD was served: whatever refused us has stopped. */
  listedAnswered(_now: number): void {
    this.#recent = [];
    this.#until = -Infinity;
  }

  active(now: number): boolean {
    return now < this.#until;
  }
}
