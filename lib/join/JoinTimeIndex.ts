/**
 * A min-heap of `(time, item)` pairs: one join side's keys filed by the
 * eviction time of their oldest buffered row, or its segments filed by their
 * newest row, so that eviction visits only what has something to evict
 * instead of scanning the whole state. Duplicates are allowed.
 *
 * A mutable acceleration structure owned by one subscription, derived from
 * the Immutable join state (rebuilt from it on recovery, never checkpointed).
 * Filings may go stale (a key evicted or re-filed under an earlier time);
 * the caller checks each drained item against its state. Filing and draining
 * cost O(log n) each; no allocation per filing beyond the two arrays' growth.
 */
export class JoinTimeIndex<K> {
  private readonly times: number[] = [];
  private readonly items: K[] = [];

  /** Number of filings held, stale ones included. */
  get size(): number {
    return this.times.length;
  }

  /** Files `item` under `time`. */
  add(time: number, item: K): void {
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

  /** Removes and returns the items filed at or below `watermarkMs` (possibly with repeats), oldest first. */
  drainDue(watermarkMs: number): K[] {
    const due: K[] = [];
    const times = this.times;
    while (times.length > 0 && times[0]! <= watermarkMs) due.push(this.pop());
    return due;
  }

  /** Forgets everything. */
  clear(): void {
    this.times.length = 0;
    this.items.length = 0;
  }

  private pop(): K {
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
}
