import { Set as ISet } from 'immutable';
import type { StableKey } from '../internal/keySpec.js';
import type { KeySample } from './JoinCondition.js';
import { JoinTimeIndex } from './JoinTimeIndex.js';
import type { JoinSegment, JoinSideState } from './JoinState.js';

/** One buffered row as the running join holds it. */
export interface LiveEntry<T> {
  readonly row: T;
  /** The row's time in the time-range condition (ms); `NaN` without a range or when missing. */
  readonly t: number;
  /** The time compared with the side's state watermark (ms); a key's rows are ordered by it. */
  readonly evt: number;
  /** The row matched a row of the other side (Spark's state format v2 `matched` flag). */
  matched: boolean;
  /** The micro-batch (segment) that buffered the row, and its position there. */
  readonly seg: number;
  readonly idx: number;
}

/** How a buffer reads the rows it rebuilds itself from. */
export interface SideReaders<T> {
  readonly keyOf: (row: T) => StableKey;
  readonly timeOf: (row: T) => number;
  /** The eviction time, or `undefined` when the side is never evicted. */
  readonly evictionTimeOf: ((row: T) => number) | undefined;
}

/**
 * The rows one join side has buffered, indexed for the running join: a
 * native `Map` from join key to the key's rows (ordered by eviction time when
 * the side is evicted), a heap of keys by their oldest row and a heap of
 * segments by their newest row. Mutable and owned by one subscription; the
 * checkpointed truth is the Immutable {@link JoinSideState} it is rebuilt
 * from on recovery. Probing a key is one native lookup; eviction touches only
 * the keys and segments that have something to evict.
 */
export class JoinSideBuffer<T> {
  readonly byKey = new Map<StableKey, LiveEntry<T>[]>();
  /** Buffered rows. */
  size = 0;
  /** The kinds of key value this side was seen to hold (see `checkKeyKinds`). */
  keySample: KeySample | undefined = undefined;
  private readonly keyHeap = new JoinTimeIndex<StableKey>();
  private readonly segmentHeap = new JoinTimeIndex<number>();

  /** `ordered`: the side is evicted, so rows are kept ordered by eviction time. */
  constructor(readonly ordered: boolean) {}

  /** Adds a row under `key`. */
  insert(key: StableKey, entry: LiveEntry<T>): void {
    this.size++;
    const list = this.byKey.get(key);
    if (list === undefined) {
      this.byKey.set(key, [entry]);
      if (this.ordered) this.keyHeap.add(entry.evt, key);
      return;
    }
    if (!this.ordered || list[list.length - 1]!.evt <= entry.evt) {
      list.push(entry);
      return;
    }
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.evt <= entry.evt) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, entry);
    if (lo === 0) this.keyHeap.add(entry.evt, key);
  }

  /** Files a new segment by its newest row, so that it leaves the state once every row is evicted. */
  fileSegment(id: number, maxEvictionTime: number): void {
    if (this.ordered) this.segmentHeap.add(maxEvictionTime, id);
  }

  /** Removes the rows at or below `watermarkMs`, handing each to `onEvicted`; returns how many. */
  evict(watermarkMs: number, onEvicted: ((entry: LiveEntry<T>) => void) | undefined): number {
    const due = this.keyHeap.drainDue(watermarkMs);
    let removed = 0;
    for (let d = 0; d < due.length; d++) {
      const key = due[d]!;
      const list = this.byKey.get(key);
      if (list === undefined) continue;
      let p = 0;
      while (p < list.length && list[p]!.evt <= watermarkMs) p++;
      if (p === 0) continue;
      if (onEvicted !== undefined) for (let i = 0; i < p; i++) onEvicted(list[i]!);
      removed += p;
      if (p === list.length) this.byKey.delete(key);
      else {
        // Drop the first p in place (splice would allocate the array of the removed rows).
        const n = list.length - p;
        for (let i = 0; i < n; i++) list[i] = list[i + p]!;
        list.length = n;
        this.keyHeap.add(list[0]!.evt, key);
      }
    }
    this.size -= removed;
    return removed;
  }

  /** The segments whose every row is at or below `watermarkMs`. */
  dueSegments(watermarkMs: number): number[] {
    return this.segmentHeap.drainDue(watermarkMs);
  }

  /**
   * Rebuilds a buffer from a side's checkpointed segments: rows at or below
   * the side's `evictedUpTo` are gone; eviction times come from `readers`
   * (they change when the eviction rule does, so segments get their newest
   * time recomputed: the returned side state).
   */
  static fromState<T>(side: JoinSideState<T>, readers: SideReaders<T>): { buffer: JoinSideBuffer<T>; side: JoinSideState<T> } {
    const evictionTimeOf = readers.evictionTimeOf;
    const buffer = new JoinSideBuffer<T>(evictionTimeOf !== undefined);
    const gone = evictionTimeOf === undefined ? undefined : side.evictedUpTo;
    const segments = side.segments.withMutations((m) => {
      for (const [id, segment] of side.segments) {
        let maxEvictionTime = Number.NaN;
        for (let idx = 0; idx < segment.rows.length; idx++) {
          const row = segment.rows[idx]!;
          const evt = evictionTimeOf === undefined ? Number.NaN : normaliseEvictionTime(evictionTimeOf(row));
          if (!(maxEvictionTime >= evt)) maxEvictionTime = evt;
          if (gone !== undefined && evt <= gone) continue;
          buffer.insert(readers.keyOf(row), { row, t: readers.timeOf(row), evt, matched: segment.matched.has(idx), seg: id, idx });
        }
        if (!Object.is(maxEvictionTime, segment.maxEvictionTime)) m.set(id, { ...segment, maxEvictionTime });
        buffer.fileSegment(id, maxEvictionTime);
      }
    });
    return { buffer, side: { segments, evictedUpTo: side.evictedUpTo } };
  }
}

/**
 * The buffer a side gets when its eviction rule changes while the segments
 * are not kept (no checkpoint, see `JoinStepInput.trackState`): its live rows
 * filed again under the new eviction times, as {@link JoinSideBuffer.fromState}
 * would rebuild them from the segments (rows at or below `evictedUpTo` under
 * the new rule are gone).
 */
export function refiled<T>(old: JoinSideBuffer<T>, evictionTimeOf: ((row: T) => number) | undefined, evictedUpTo: number | undefined): JoinSideBuffer<T> {
  const buffer = new JoinSideBuffer<T>(evictionTimeOf !== undefined);
  buffer.keySample = old.keySample;
  const gone = evictionTimeOf === undefined ? undefined : evictedUpTo;
  for (const [key, list] of old.byKey) {
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const evt = evictionTimeOf === undefined ? Number.NaN : normaliseEvictionTime(evictionTimeOf(e.row));
      if (gone !== undefined && evt <= gone) continue;
      buffer.insert(key, { row: e.row, t: e.t, evt, matched: e.matched, seg: e.seg, idx: e.idx });
    }
  }
  return buffer;
}

/** Eviction time given to a row whose time is missing: it goes at the first eviction. */
export const MISSING_EVICTION_TIME = -8.64e15;

/** Maps a missing (`NaN`) eviction time to {@link MISSING_EVICTION_TIME}. */
export function normaliseEvictionTime(evt: number): number {
  return Number.isNaN(evt) ? MISSING_EVICTION_TIME : evt;
}

/** The newest eviction time among a segment's rows (`NaN` when the side is not evicted). */
export function segmentMaxEvictionTime<T>(entries: readonly LiveEntry<T>[], ordered: boolean): number {
  if (!ordered) return Number.NaN;
  let max = Number.NaN;
  for (let i = 0; i < entries.length; i++) if (!(max >= entries[i]!.evt)) max = entries[i]!.evt;
  return max;
}

/** The checkpointed segment for the rows a side buffered in one micro-batch (`maxEvictionTime`: their {@link segmentMaxEvictionTime}); `recordMatched`: with the positions of the rows that matched (`false`: none, for a join that never reads them). */
export function segmentOf<T>(entries: readonly LiveEntry<T>[], maxEvictionTime: number, recordMatched = true): JoinSegment<T> {
  const rows = new Array<T>(entries.length);
  let matched: number[] | undefined;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    rows[i] = e.row;
    if (recordMatched && e.matched) (matched ??= []).push(i);
  }
  return { rows, matched: matched === undefined ? EMPTY_SET : ISet(matched), maxEvictionTime };
}

const EMPTY_SET = ISet<number>();
