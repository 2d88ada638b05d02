import { MinHeap } from "./heap.ts";

export interface DueEntry {
  at: number;
  key: string;
}

/**
 * Ended VODs by release time. An entry is current while its VOD is still ended with that release
 * time (`releaseAtOf`); entries made stale by a revival or a new end are dropped when they surface.
 */
export class ReleaseQueue {
  readonly #heap = new MinHeap<DueEntry>((a, b) => a.at < b.at || (a.at === b.at && a.key < b.key));

  constructor(private readonly releaseAtOf: (key: string) => number | undefined) {}

  push(at: number, key: string): void {
    this.#heap.push({ at, key });
  }

  /** The earliest current release time (stale entries are dropped on the way). */
  next(): number | undefined {
    for (;;) {
      const head = this.#heap.peek();
      if (!head) return undefined;
      if (this.releaseAtOf(head.key) === head.at) return head.at;
      this.#heap.pop();
    }
  }

  /** Takes the head; call after `next()` said it is current. */
  take(): DueEntry {
    return this.#heap.pop()!;
  }

  /** Entries taken but not released yet: they stay due. */
  putBack(entries: DueEntry[]): void {
    for (const e of entries) this.#heap.push(e);
  }
}
