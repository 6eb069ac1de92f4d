import type { StableKey } from '../internal/keySpec.js';

/**
 * Keys filed by a time (an event time, an expiry, a timeout deadline), so
 * that the keys due at a watermark or a clock reading are found without
 * scanning the whole state: keys sharing a time share one bucket, and the
 * bucket times sit in a binary min-heap.
 *
 * This is a mutable acceleration structure owned by one subscription and
 * derived from the operator's Immutable state (it is rebuilt from that state
 * on recovery and never checkpointed). Entries may go stale — a key removed
 * or re-filed under another time — so callers check each drained key against
 * their state. Adding is O(1) for a time already present, O(log b) for a new
 * one (b = distinct times); draining costs O(log b) per bucket plus O(1) per key.
 */
export class TimeIndex {
  private readonly buckets = new Map<number, StableKey[]>();
  private readonly heap: number[] = [];
  private lastTime = Number.NaN;
  private lastBucket: StableKey[] | undefined;
  private count = 0;

  /** Number of (time, key) entries held, stale ones included. */
  get size(): number {
    return this.count;
  }

  /** Files `key` under `time`. Infinite or NaN times are ignored (never due). */
  add(time: number, key: StableKey): void {
    if (!Number.isFinite(time)) return;
    let bucket: StableKey[] | undefined;
    if (time === this.lastTime) bucket = this.lastBucket;
    else {
      bucket = this.buckets.get(time);
      if (bucket === undefined) {
        bucket = [];
        this.buckets.set(time, bucket);
        this.push(time);
      }
      this.lastTime = time;
      this.lastBucket = bucket;
    }
    bucket!.push(key);
    this.count++;
  }

  /**
   * Removes every entry whose time is `<= limit` (or `< limit` when `strict`),
   * earliest time first, handing each to `onKey`.
   */
  drain(limit: number, strict: boolean, onKey: (key: StableKey, time: number) => void): void {
    const heap = this.heap;
    while (heap.length > 0) {
      const time = heap[0]!;
      if (strict ? !(time < limit) : !(time <= limit)) return;
      this.pop();
      const bucket = this.buckets.get(time)!;
      this.buckets.delete(time);
      if (time === this.lastTime) {
        this.lastTime = Number.NaN;
        this.lastBucket = undefined;
      }
      this.count -= bucket.length;
      for (let i = 0; i < bucket.length; i++) onKey(bucket[i]!, time);
    }
  }

  private push(time: number): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p <= time) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = time;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return;
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
}
