/** Min-heap of (time, id) pairs; ties go to the lower id so event order never depends on timing. */
export class EventHeap {
  #times: number[] = [];
  #ids: number[] = [];

  push(time: number, id: number): void {
    const times = this.#times;
    const ids = this.#ids;
    let i = times.length;
    times.push(time);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(time, id, times[parent] as number, ids[parent] as number)) break;
      times[i] = times[parent] as number;
      ids[i] = ids[parent] as number;
      i = parent;
    }
    times[i] = time;
    ids[i] = id;
  }

  peekTime(): number {
    return this.#times.length > 0 ? (this.#times[0] as number) : Infinity;
  }

  /** Removes the smallest entry and returns its id. */
  pop(): number {
    const times = this.#times;
    const ids = this.#ids;
    const top = ids[0];
    if (top === undefined) throw new Error("pop from an empty heap");
    const lastTime = times.pop() as number;
    const lastId = ids.pop() as number;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c =
          r < n && this.#less(times[r] as number, ids[r] as number, times[l] as number, ids[l] as number) ? r : l;
        if (!this.#less(times[c] as number, ids[c] as number, lastTime, lastId)) break;
        times[i] = times[c] as number;
        ids[i] = ids[c] as number;
        i = c;
      }
      times[i] = lastTime;
      ids[i] = lastId;
    }
    return top;
  }

  #less(t1: number, id1: number, t2: number, id2: number): boolean {
    return t1 < t2 || (t1 === t2 && id1 < id2);
  }
}
