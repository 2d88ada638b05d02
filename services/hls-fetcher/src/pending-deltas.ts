/**
 * What this process learned since its last flush, by key: taken out for a write, and put back if the
 * write fails, merged with whatever was learned meanwhile.
 */
export class PendingDeltas<T> extends Map<string, T> {
  /** `merge(older, newer)`: two deltas of one key as one, `newer` learned after `older`. */
  constructor(private readonly merge: (older: T, newer: T) => T) {
    super();
  }

  /** The deltas to write, taken out: `restore` puts them back if the write fails. */
  take(): [string, T][] {
    const deltas = [...this];
    this.clear();
    return deltas;
  }

  /** Deltas a failed flush took, kept for the next one, merged with whatever was learned meanwhile. */
  restore(deltas: readonly [string, T][]): void {
    for (const [key, d] of deltas) {
      const newer = this.get(key);
      this.set(key, newer ? this.merge(d, newer) : d);
    }
  }
}
