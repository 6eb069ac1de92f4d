import type { StableKey } from '../internal/keySpec.js';

/**
 * Keys of one join side filed by the eviction time of their oldest buffered
 * row, so that eviction visits only the keys that have something to evict
 * instead of scanning the whole state: distinct times sit in a binary
 * min-heap, keys sharing a time share one bucket.
 *
 * A mutable acceleration structure owned by one subscription, derived from
 * the Immutable join state (rebuilt from it on recovery, never checkpointed).
 * Filings may go stale (a key evicted or re-filed under an earlier time);
 * the caller checks each drained key against the state. Filing costs O(1)
 * for a time already present and O(log b) for a new one (b = distinct times).
 */
export class JoinTimeIndex {
  private readonly buckets = new Map<number, StableKey[]>();
  private readonly heap: number[] = [];

  /** Number of distinct times filed. */
  get size(): number {
    return this.heap.length;
  }

  /** Files `key` under `time`. */
  add(time: number, key: StableKey): void {
    const bucket = this.buckets.get(time);
    if (bucket !== undefined) {
      bucket.push(key);
      return;
    }
    this.buckets.set(time, [key]);
    const heap = this.heap;
    let i = heap.length;
    heap.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= time) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = time;
  }

  /** Removes and returns the keys filed at or below `watermarkMs` (possibly with repeats), oldest first. */
  drainDue(watermarkMs: number): StableKey[] {
    const due: StableKey[] = [];
    const heap = this.heap;
    while (heap.length > 0 && heap[0]! <= watermarkMs) {
      const time = this.pop();
      const bucket = this.buckets.get(time)!;
      this.buckets.delete(time);
      for (let i = 0; i < bucket.length; i++) due.push(bucket[i]!);
    }
    return due;
  }

  /** Forgets everything. */
  clear(): void {
    this.buckets.clear();
    this.heap.length = 0;
  }

  private pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}
