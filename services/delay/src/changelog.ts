/**
 * The keys whose state records must be written (dirty, each with a change number) or tombstoned
 * (gone). A flush cleans only what did not change while it was being written.
 */
export class Changelog {
  readonly #dirty = new Map<string, number>();
  readonly #gone = new Set<string>();
  #changes = 0;

  touch(key: string): void {
    this.#dirty.set(key, ++this.#changes);
    this.#gone.delete(key);
  }

  tombstone(key: string): void {
    this.#dirty.delete(key);
    this.#gone.add(key);
  }

  isDirty(key: string): boolean {
    return this.#dirty.has(key);
  }

  dirtyKeys(): IterableIterator<string> {
    return this.#dirty.keys();
  }

  /** What a flush takes: the tombstones, and the change number of every dirty key. */
  take(): { tombstones: string[]; marks: Map<string, number> } {
    return { tombstones: [...this.#gone], marks: new Map(this.#dirty) };
  }

  /** After a flush was acknowledged: clean only if unchanged since it was taken (the release loop and handlers interleave). */
  written(marks: Map<string, number>, tombstones: string[]): void {
    for (const [key, mark] of marks) if (this.#dirty.get(key) === mark) this.#dirty.delete(key);
    for (const t of tombstones) this.#gone.delete(t);
  }

  get size(): number {
    return this.#dirty.size + this.#gone.size;
  }
}
