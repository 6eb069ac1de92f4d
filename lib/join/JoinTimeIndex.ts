import { MinHeap } from '../internal/MinHeap.js';

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
export class JoinTimeIndex<K> extends MinHeap<K> {
  /** Removes and returns the items filed at or below `watermarkMs` (possibly with repeats), oldest first. */
  drainDue(watermarkMs: number): K[] {
    const due: K[] = [];
    while (this.size > 0 && this.peekTime() <= watermarkMs) due.push(this.pop());
    return due;
  }
}
