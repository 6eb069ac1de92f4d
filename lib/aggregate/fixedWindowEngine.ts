import { Map as IMap } from 'immutable';
import type { WindowSpec } from '../window/WindowBounds.js';
import type { CompiledAggregates } from './Aggregator.js';
import type { CompiledKey } from './groupKey.js';
import { toEpochMs } from '../time/eventTime.js';
import { accumulatorFactory, rowFolder, type RowFolder } from './rowFolder.js';

/** One group's persistent state: its raw key (for output) and one accumulator per aggregate. */
export interface GroupState {
  readonly k: unknown;
  readonly a: readonly unknown[];
}

/** Groups of one bucket (window start, event time, or 0), by canonical key. */
export type BucketGroups = IMap<unknown, GroupState>;

/**
 * The state of a fixed-window (or plain) aggregation: groups nested under
 * their bucket, a number: the window start for time windows, the event time
 * (or window end) when grouping by the watermarked column, 0 otherwise. The
 * nesting makes eviction one removal per bucket.
 */
export interface FixedAggState {
  readonly buckets: IMap<number, BucketGroups>;
  /** The late-events watermark for the next batch (the watermark after the last batch). */
  readonly lateWatermarkMs: number;
}

/**
 * How rows map to buckets:
 * - `tumbling` / `sliding`: time windows on `spec`; a bucket is a window start, it ends at `start + size`;
 * - `eventTime`: the bucket is the row's watermark value (event time, or a window column's end) and ends there;
 * - `none`: one bucket 0 that never ends.
 */
export type Bucketing = 'tumbling' | 'sliding' | 'eventTime' | 'none';

/** Reads a row's time for bucketing: a field name (fast path) or a function returning epoch ms (NaN when invalid). */
export interface TimeAccess<T> {
  readonly field: string | undefined;
  readonly ms: (row: T) => number;
}

/** What one batch did. Row lists are built lazily by the caller from these. */
export interface FixedStepResult<T> {
  readonly state: FixedAggState;
  /** Groups written this batch: parallel arrays of bucket and the group's new state. */
  readonly updatedBuckets: number[];
  readonly updatedGroups: GroupState[];
  /** Buckets evicted by the watermark, with their groups. */
  readonly evicted: [number, BucketGroups][];
  readonly numRemoved: number;
  /** Rows dropped as late. */
  readonly late: T[];
  /** Rows whose event time was invalid and dropped (policy `'drop'`); their indexes. */
  readonly invalid: number[];
}

interface Slot {
  readonly gk: unknown;
  readonly k: unknown;
  readonly a: unknown[];
}

const EMPTY_BUCKET: BucketGroups = IMap<unknown, GroupState>();

/** The engine behind `windowTumbling`, `windowSliding` and `groupAggregate`: per subscription, mutable scratch around persistent state. */
export class FixedWindowEngine<T> {
  state: FixedAggState;
  /** Bucket ids present in the state, ascending (so by end too); read from the front for eviction. */
  private sorted: number[] = [];
  private head = 0;
  /** Total groups in the state. */
  totalGroups = 0;
  private readonly fold: RowFolder<T>;
  private readonly newAccs: () => unknown[];

  constructor(
    private readonly aggs: CompiledAggregates<T>,
    private readonly key: CompiledKey<T>,
    readonly bucketing: Bucketing,
    private readonly spec: WindowSpec | undefined,
    initial?: FixedAggState,
  ) {
    this.fold = rowFolder(aggs.aggregators);
    this.newAccs = accumulatorFactory(aggs.aggregators);
    this.state = initial ?? { buckets: IMap<number, BucketGroups>(), lateWatermarkMs: 0 };
    for (const [bucket, groups] of this.state.buckets) {
      this.sorted.push(bucket);
      this.totalGroups += groups.size;
    }
    this.sorted.sort((x, y) => x - y);
  }

  /** When a bucket ends (exclusive): a window's end, the event time itself, or never. */
  bucketEnd(bucket: number): number {
    switch (this.bucketing) {
      case 'tumbling':
      case 'sliding':
        return bucket + this.spec!.sizeMs;
      case 'eventTime':
        return bucket;
      default:
        return Number.POSITIVE_INFINITY;
    }
  }

  /**
   * Folds one batch in: rows whose bucket ends at or before `lateWatermarkMs`
   * are late (when `lateFiltering`); then, when `evictWatermarkMs` is given,
   * removes every bucket ending at or before it.
   *
   * `onInvalid(row, index)` is called for a row whose time is invalid; it
   * throws (policy `'error'`) or returns (the row is dropped).
   */
  step(rows: readonly T[], time: TimeAccess<T>, lateFiltering: boolean, evictWatermarkMs: number | undefined, nextLateWatermarkMs: number, onInvalid: (row: T, index: number) => void): FixedStepResult<T> {
    const { aggregators } = this.aggs;
    const nAggs = aggregators.length;
    const key = this.key;
    const keyField = key.kind === 'field' ? key.fields[0]! : undefined;
    const keyKind = key.kind;
    const fold = this.fold;
    const newAccs = this.newAccs;
    const bucketing = this.bucketing;
    const timeField = time.field;
    const lateWm = this.state.lateWatermarkMs;
    const sizeMs = this.spec?.sizeMs ?? 0;
    const slideMs = this.spec?.slideMs ?? 0;
    const startMs = this.spec?.startMs ?? 0;
    const candidates = this.spec === undefined ? 0 : Math.ceil(sizeMs / slideMs);
    const late: T[] = [];
    const invalid: number[] = [];
    const scratch = new Map<number, Map<unknown, Slot>>();
    let lastBucket = Number.NaN;
    let inner: Map<unknown, Slot> | undefined;

    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let t = 0;
      if (bucketing !== 'none') {
        if (timeField !== undefined) {
          const v = (row as Record<string, unknown>)[timeField];
          t = typeof v === 'number' ? (Number.isFinite(v) ? Math.floor(v) : Number.NaN) : bucketing === 'eventTime' && typeof v === 'object' && v !== null && !(v instanceof Date) ? windowEndOf(v) : toEpochMs(v);
        } else t = time.ms(row);
        if (t !== t) {
          onInvalid(row, i);
          invalid.push(i);
          continue;
        }
      }
      // The grouping key, read once per row.
      let k: unknown;
      let gk: unknown;
      if (keyField !== undefined) {
        k = (row as Record<string, unknown>)[keyField];
        gk = typeof k === 'object' && k !== null ? key.canonical(k) : k;
      } else if (keyKind === 'none') {
        k = null;
        gk = null;
      } else {
        k = key.raw(row);
        gk = key.canonical(k);
      }
      if (bucketing === 'sliding') {
        // Every window [start, start + size) of the grid holding t.
        const r = (t - startMs) % slideMs;
        const lastStart = r < 0 ? t - r - slideMs : t - r;
        let used = 0;
        for (let c = 0; c < candidates; c++) {
          const start = lastStart - c * slideMs;
          const end = start + sizeMs;
          if (end <= t) break;
          if (lateFiltering && end <= lateWm) continue;
          used++;
          if (start !== lastBucket) {
            inner = scratch.get(start);
            if (inner === undefined) scratch.set(start, (inner = new Map()));
            lastBucket = start;
          }
          let slot = inner!.get(gk);
          if (slot === undefined) {
            slot = { gk, k, a: newAccs() };
            inner!.set(gk, slot);
          }
          fold(slot.a, row);
        }
        if (used === 0) late.push(row);
        continue;
      }
      let bucket: number;
      if (bucketing === 'tumbling') {
        const r = (t - startMs) % sizeMs;
        bucket = r < 0 ? t - r - sizeMs : t - r;
        if (lateFiltering && bucket + sizeMs <= lateWm) {
          late.push(row);
          continue;
        }
      } else if (bucketing === 'eventTime') {
        bucket = t;
        if (lateFiltering && t <= lateWm) {
          late.push(row);
          continue;
        }
      } else bucket = 0;
      if (bucket !== lastBucket) {
        inner = scratch.get(bucket);
        if (inner === undefined) scratch.set(bucket, (inner = new Map()));
        lastBucket = bucket;
      }
      let slot = inner!.get(gk);
      if (slot === undefined) {
        slot = { gk, k, a: newAccs() };
        inner!.set(gk, slot);
      }
      fold(slot.a, row);
    }

    // One persistent update per (bucket, group) touched by this batch.
    const updatedBuckets: number[] = [];
    const updatedGroups: GroupState[] = [];
    let buckets = this.state.buckets;
    if (scratch.size > 0) {
      const outer = buckets.asMutable();
      for (const [bucket, slots] of scratch) {
        const existing = outer.get(bucket);
        const groups = (existing ?? EMPTY_BUCKET).asMutable();
        for (const slot of slots.values()) {
          const old = groups.get(slot.gk);
          let g: GroupState;
          if (old === undefined) {
            g = { k: slot.k, a: slot.a };
            this.totalGroups++;
          } else {
            const merged = new Array<unknown>(nAggs);
            for (let j = 0; j < nAggs; j++) merged[j] = aggregators[j]!.merge(old.a[j] as never, slot.a[j] as never);
            g = { k: old.k, a: merged };
          }
          groups.set(slot.gk, g);
          updatedBuckets.push(bucket);
          updatedGroups.push(g);
        }
        outer.set(bucket, groups.asImmutable());
        if (existing === undefined) this.insertBucket(bucket);
      }
      buckets = outer.asImmutable();
    }

    // Eviction: buckets are sorted by end, so only the ones that end are visited.
    const evicted: [number, BucketGroups][] = [];
    let numRemoved = 0;
    if (evictWatermarkMs !== undefined && this.head < this.sorted.length && this.bucketEnd(this.sorted[this.head]!) <= evictWatermarkMs) {
      const outer = buckets.asMutable();
      while (this.head < this.sorted.length && this.bucketEnd(this.sorted[this.head]!) <= evictWatermarkMs) {
        const bucket = this.sorted[this.head++]!;
        const groups = outer.get(bucket);
        if (groups === undefined) continue;
        evicted.push([bucket, groups]);
        numRemoved += groups.size;
        this.totalGroups -= groups.size;
        outer.remove(bucket);
      }
      buckets = outer.asImmutable();
      if (this.head > 1024 && this.head * 2 > this.sorted.length) {
        this.sorted = this.sorted.slice(this.head);
        this.head = 0;
      }
    }
    this.state = { buckets, lateWatermarkMs: nextLateWatermarkMs };
    return { state: this.state, updatedBuckets, updatedGroups, evicted, numRemoved, late, invalid };
  }

  private insertBucket(bucket: number): void {
    const s = this.sorted;
    // Buckets mostly arrive in time order: append, else binary-search the slot.
    if (s.length === this.head || s[s.length - 1]! < bucket) {
      s.push(bucket);
      return;
    }
    let lo = this.head;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < bucket) lo = mid + 1;
      else hi = mid;
    }
    s.splice(lo, 0, bucket);
  }
}

function windowEndOf(v: object): number {
  const end = (v as { end?: unknown }).end;
  return typeof end === 'number' ? end : Number.NaN;
}
