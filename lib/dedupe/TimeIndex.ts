import type { StableKey } from '../internal/keySpec.js';
import { MinHeap } from '../internal/MinHeap.js';

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
 * The bucket heap is a {@link MinHeap}.
 */
export class TimeIndex {
  private readonly buckets = new Map<number, StableKey[]>();
  /** One entry per bucket: its time and the bucket itself. */
  private readonly heap = new MinHeap<StableKey[]>();
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
        this.heap.add(time, bucket);
      }
      this.lastTime = time;
      this.lastBucket = bucket;
    }
    bucket!.push(key);
    this.count++;
  }

  /** Like {@link drain} with `strict` false, appending the entries to `keys` and `times` instead of calling back per entry. */
  drainTo(limit: number, keys: StableKey[], times: number[]): void {
    const heap = this.heap;
    while (heap.size > 0) {
      const time = heap.peekTime();
      if (!(time <= limit)) return;
      const bucket = this.popEarliest(time);
      for (let i = 0; i < bucket.length; i++) {
        keys.push(bucket[i]!);
        times.push(time);
      }
    }
  }

  /**
   * Removes every entry whose time is `<= limit` (or `< limit` when `strict`),
   * earliest time first, handing each to `onKey`.
   */
  drain(limit: number, strict: boolean, onKey: (key: StableKey, time: number) => void): void {
    const heap = this.heap;
    while (heap.size > 0) {
      const time = heap.peekTime();
      if (strict ? !(time < limit) : !(time <= limit)) return;
      const bucket = this.popEarliest(time);
      for (let i = 0; i < bucket.length; i++) onKey(bucket[i]!, time);
    }
  }

  /** Removes the earliest bucket (whose time, the heap's top, is `time`) and returns its keys. */
  private popEarliest(time: number): StableKey[] {
    const bucket = this.heap.pop();
    this.buckets.delete(time);
    if (time === this.lastTime) {
      this.lastTime = Number.NaN;
      this.lastBucket = undefined;
    }
    this.count -= bucket.length;
    return bucket;
  }
}
