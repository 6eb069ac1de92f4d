/**
 * A binary min-heap of `(time, item)` pairs kept in two parallel arrays, the
 * priority queue behind the time indexes of the stateful operators (join
 * eviction, deduplication expiry, `groupsWithState` timeouts). Duplicate times
 * and duplicate items are allowed; ties come out in no particular order.
 *
 * Mutable and owned by one subscription. Adding and popping cost O(log n);
 * nothing is allocated per entry beyond the arrays' growth.
 */
export class MinHeap<V> {
  private readonly times: number[] = [];
  private readonly items: V[] = [];

  /** Number of entries held. */
  get size(): number {
    return this.times.length;
  }

  /** The smallest time held, `Infinity` when empty. */
  peekTime(): number {
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  /** Files `item` under `time`. */
  add(time: number, item: V): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt <= time) break;
      times[i] = pt;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  /** Removes the entry with the smallest time and returns its item (its time is `peekTime()` before the call). The heap must not be empty. */
  pop(): V {
    const times = this.times;
    const items = this.items;
    const top = items[0]!;
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r]! < times[l]! ? r : l;
        if (times[c]! >= lastTime) break;
        times[i] = times[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }

  /** Forgets everything. */
  clear(): void {
    this.times.length = 0;
    this.items.length = 0;
  }
}
