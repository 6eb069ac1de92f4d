import { Map as IMap } from 'immutable';
import type { WindowSpec } from '../window/WindowBounds.js';
import type { CompiledAggregates } from './Aggregator.js';
import { needsCanonical, type CompiledKey } from './groupKey.js';
import { MAX_EVENT_TIME_MS, toEpochMs } from '../time/eventTime.js';
import { InvariantViolationError } from '../errors/index.js';
import { accumulatorFactory, rowFolder, type RowFolder } from './rowFolder.js';

/**
 * One group's state, as one flat array: the accumulator of each aggregate at
 * `0 .. n-1`, the group's raw key (for output) at `n`, at `n + 1` an
 * ownership tag and at `n + 2` the batch that last listed it (see
 * {@link FixedWindowEngine}), and at `n + 3`, once a checkpoint has read the
 * group, its checkpoint entry key (built once per group, not per batch). Once a snapshot holds a
 * record, the record is never written again.
 */
export type GroupRecord = readonly unknown[];

/** Groups of one bucket (window start, event time, or 0), by canonical key, in a snapshot. */
export type BucketGroups = IMap<unknown, GroupRecord>;

/**
 * A snapshot of a fixed-window (or plain) aggregation: groups nested under
 * their bucket, a number: the window start for time windows, the event time
 * (or window end) when grouping by the watermarked column, 0 otherwise. An
 * Immutable value: what checkpoints store and `ResultBatch.table` reads.
 */
export interface FixedAggState {
  readonly buckets: IMap<number, BucketGroups>;
  /** The late-events watermark for the next batch (the watermark after the last batch). */
  readonly lateWatermarkMs: number;
  /**
   * Set on a state restored from a checkpoint ({@link FixedStateBuilder}):
   * `buckets` is then a view of these plain working maps (read through the
   * `get` / `forEach` / `values` / `size` that `Map` and Immutable's map
   * share), and the engine created from the state takes them over as its
   * working state instead of copying them. Only one engine may.
   */
  readonly owned?: OwnedGroups;
}

/** The working maps of a restored state, handed to the one engine that restores it. */
export interface OwnedGroups {
  readonly groups: Map<number, Map<unknown, unknown[]>>;
  adopted: boolean;
}

/** The engine's first epoch: a restored record tagged with it is clean for an engine that adopts it (see {@link FixedWindowEngine}). */
const INITIAL_EPOCH = 1;

/**
 * Builds a restored fixed-window state in the engine's working layout: one
 * plain `Map` per bucket, records with their ownership slots already set, so
 * that restoring costs one record and one `Map.set` per group and the engine
 * adopts the maps as they are. Entries are applied in order (a later set of a
 * group replaces it in place, a removal deletes it, a bucket left without
 * groups goes), which gives the order a live state would have.
 */
export class FixedStateBuilder {
  private readonly groups = new Map<number, Map<unknown, unknown[]>>();
  private lastBucket = Number.NaN;
  private last: Map<unknown, unknown[]> | undefined;
  lateWatermarkMs = 0;

  constructor(private readonly nAggs: number) {}

  /** A new record: accumulators `0 .. n-1` and the raw key at `n` are the caller's to fill. */
  record(): unknown[] {
    const n = this.nAggs;
    const g = new Array<unknown>(n + 3);
    g[n + 1] = INITIAL_EPOCH;
    g[n + 2] = 0;
    return g;
  }

  /** Makes `g` (accumulators and raw key filled in, at least `n + 3` slots) a restored record: sets its bookkeeping slots. */
  restored(g: unknown[]): void {
    g[this.nAggs + 1] = INITIAL_EPOCH;
    g[this.nAggs + 2] = 0;
  }

  set(bucket: number, gk: unknown, g: unknown[]): void {
    let inner = this.last;
    if (bucket !== this.lastBucket || inner === undefined) {
      inner = this.groups.get(bucket);
      if (inner === undefined) this.groups.set(bucket, (inner = new Map()));
      this.lastBucket = bucket;
      this.last = inner;
    }
    inner.set(gk, g);
  }

  remove(bucket: number, gk: unknown): void {
    const inner = this.groups.get(bucket);
    if (inner === undefined || !inner.delete(gk) || inner.size > 0) return;
    this.groups.delete(bucket);
    if (bucket === this.lastBucket) this.last = undefined;
  }

  finish(): FixedAggState {
    const groups = this.groups;
    return { buckets: groups as unknown as FixedAggState['buckets'], lateWatermarkMs: this.lateWatermarkMs, owned: { groups, adopted: false } };
  }
}

/**
 * How rows map to buckets:
 * - `tumbling` / `sliding`: time windows on `spec`; a bucket is a window start, it ends at `start + size`;
 * - `eventTime`: the bucket is the row's watermark value (event time, or a window column's end) and ends there;
 * - `none`: one bucket 0 that never ends;
 * - `pane`: the panes of sliding windows on `spec` (see {@link paneSpec}): a bucket is a pane start, and
 *   it ends (is evicted, and its rows are late) with the last window holding it.
 */
export type Bucketing = 'tumbling' | 'sliding' | 'eventTime' | 'none' | 'pane';

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The pane grid of a sliding window spec: panes of `gcd(size, slide)` ms on
 * the windows' grid, so that every window `[start, start + size)` is exactly
 * `size / paneMs` consecutive panes.
 */
export function paneSpec(spec: WindowSpec): { readonly paneMs: number; readonly panesPerWindow: number } {
  const paneMs = gcd(spec.sizeMs, spec.slideMs);
  return { paneMs, panesPerWindow: spec.sizeMs / paneMs };
}

/** The end of the last window (of `spec`) that holds the pane or time `t`: its lateness and eviction time. */
export function lastWindowEnd(t: number, spec: WindowSpec): number {
  const r = (t - spec.startMs) % spec.slideMs;
  return (r < 0 ? t - r - spec.slideMs : t - r) + spec.sizeMs;
}

/** Reads a row's time for bucketing: a field name (fast path) or a function returning epoch ms (NaN when invalid). */
export interface TimeAccess<T> {
  readonly field: string | undefined;
  readonly ms: (row: T) => number;
}

/** What one batch did. Row lists are built lazily by the caller from these. */
export interface FixedStepResult<T> {
  /** Groups written this batch. */
  readonly numUpdated: number;
  /** Whether the written groups are listed below (see {@link FixedWindowEngine.trackUpdates}). */
  readonly tracked: boolean;
  /** Groups written this batch: parallel arrays of bucket, canonical key and the group's record. */
  readonly updatedBuckets: number[];
  readonly updatedKeys: unknown[];
  readonly updatedGroups: GroupRecord[];
  /** Buckets evicted by the watermark, with their groups (no longer part of the state). */
  readonly evicted: [number, ReadonlyMap<unknown, GroupRecord>][];
  readonly numRemoved: number;
  /** Rows dropped as late. */
  readonly late: T[];
  /** Rows whose event time was invalid and dropped (policy `'drop'`); their indexes. */
  readonly invalid: number[];
}

const EMPTY_BUCKET: BucketGroups = IMap<unknown, GroupRecord>();

function windowEndOf(v: object): number {
  const end = (v as { end?: unknown }).end;
  return typeof end === 'number' ? end : Number.NaN;
}

/**
 * The engine behind `windowTumbling`, `windowSliding` and `groupAggregate`.
 *
 * Working state: plain `Map`s (bucket -> canonical key -> record) owned by
 * the subscription, folded into row by row like a hand-written loop — no
 * per-row allocation, one record per new group.
 *
 * Persistent state: an Immutable snapshot ({@link seal}), taken when someone
 * needs a value — a checkpoint after every batch, or a read of the whole
 * result table. It is built incrementally: when the previous batch was sealed
 * too, only the groups this batch wrote and the buckets it evicted are applied
 * (one `withMutations` pass, once per window and key), otherwise it is rebuilt
 * from the working maps. Records are shared between the two and copied on
 * write: after a seal, the first touch of a group in a later batch folds into
 * a fresh record that is merged with the sealed one at the end of the batch,
 * so a snapshot never changes.
 *
 * Ownership tag at `record[n + 1]`: `epoch` (a clean record of the current
 * epoch: fold into it directly), `-epoch` (a copy made this batch, merged with
 * its sealed original at the end of the batch), anything else (older,
 * restored, or merged with a sealed record, whose accumulators `merge` may
 * share with a snapshot: copy on write). `record[n + 2]` is the batch that
 * last listed the record as written.
 */
export class FixedWindowEngine<T> {
  /** Working state. */
  private readonly groups: Map<number, Map<unknown, unknown[]>>;
  private lateWatermarkMs: number;
  /** Bucket ids present in the state, ascending (so by end too); read from the front for eviction. */
  private sorted: number[] = [];
  private head = 0;
  /** Total groups in the state. */
  totalGroups = 0;
  /** Incremented by every batch. */
  version = 0;
  /**
   * List the groups each batch writes (for update mode, checkpoints' changed
   * keys and incremental snapshots). An append-mode aggregation without a
   * checkpoint needs only their number.
   */
  trackUpdates = true;
  private epoch = INITIAL_EPOCH;
  private snapshot: IMap<number, BucketGroups>;
  private snapshotVersion = 0;
  private last: FixedStepResult<T> | undefined;
  private readonly fold: RowFolder<T>;
  /** A fresh record: `init()` of each aggregate, then slots for the raw key, the tag, the batch version that listed it and its checkpoint entry key (see {@link GroupRecord}). */
  private readonly newRecord: () => unknown[];
  private readonly starts: number[] = [];

  private readonly paneMs: number;

  constructor(
    private readonly aggs: CompiledAggregates<T>,
    private readonly key: CompiledKey<T>,
    readonly bucketing: Bucketing,
    private readonly spec: WindowSpec | undefined,
    initial?: FixedAggState,
  ) {
    this.paneMs = bucketing === 'pane' ? paneSpec(spec!).paneMs : 0;
    this.fold = rowFolder(aggs.aggregators);
    this.newRecord = accumulatorFactory(aggs.aggregators, 4);
    this.lateWatermarkMs = initial?.lateWatermarkMs ?? 0;
    const owned = initial?.owned;
    if (owned !== undefined) {
      // A restored state in the working layout: taken over as it is. No snapshot holds its
      // records (they are tagged with this first epoch), so the first seal builds one.
      if (owned.adopted) throw new InvariantViolationError('FixedWindowEngine: a restored state was handed to a second engine; each restored state belongs to one subscription.');
      owned.adopted = true;
      this.groups = owned.groups;
      this.snapshot = IMap<number, BucketGroups>();
      this.snapshotVersion = -1;
      for (const [bucket, inner] of this.groups) {
        if (inner.size === 0) {
          this.groups.delete(bucket);
          continue;
        }
        this.sorted.push(bucket);
        this.totalGroups += inner.size;
      }
    } else {
      this.groups = new Map();
      this.snapshot = initial?.buckets ?? IMap<number, BucketGroups>();
      for (const [bucket, groups] of this.snapshot) {
        const inner = new Map<unknown, unknown[]>();
        groups.forEach((g, gk) => void inner.set(gk, g as unknown[]));
        this.groups.set(bucket, inner);
        this.sorted.push(bucket);
        this.totalGroups += groups.size;
      }
    }
    this.sorted.sort((x, y) => x - y);
  }

  /** The late-events watermark the next batch will use. */
  get lateWatermark(): number {
    return this.lateWatermarkMs;
  }

  /**
   * The working state after the last batch, read through the same
   * `buckets.get(bucket)?.get(key)` calls as a snapshot: for a checkpoint,
   * which reads the changed groups while the operator publishes them (before
   * the next batch changes them), so that checkpointing needs no snapshot.
   */
  working(): FixedAggState {
    return { buckets: this.groups as unknown as FixedAggState['buckets'], lateWatermarkMs: this.lateWatermarkMs };
  }

  /**
   * Takes a snapshot of the state after the last batch: an Immutable value
   * that later batches never change. Incremental (O(groups written by the
   * last batch)) when the batch before was sealed too, else O(state).
   */
  seal(): FixedAggState {
    if (this.snapshotVersion !== this.version) {
      const last = this.last;
      if (last !== undefined && last.tracked && this.snapshotVersion === this.version - 1) {
        const outer = this.snapshot.asMutable();
        let bucket = Number.NaN;
        let inner: BucketGroups | undefined;
        for (let i = 0; i < last.updatedGroups.length; i++) {
          const b = last.updatedBuckets[i]!;
          if (b !== bucket) {
            if (inner !== undefined) outer.set(bucket, inner.asImmutable());
            bucket = b;
            inner = (outer.get(b) ?? EMPTY_BUCKET).asMutable();
          }
          inner!.set(last.updatedKeys[i], last.updatedGroups[i]!);
        }
        if (inner !== undefined) outer.set(bucket, inner.asImmutable());
        // Buckets written and evicted in the same batch.
        for (const [b] of last.evicted) outer.remove(b);
        this.snapshot = outer.asImmutable();
      } else {
        const outer = IMap<number, BucketGroups>().asMutable();
        for (const [bucket, groups] of this.groups) outer.set(bucket, IMap(groups) as BucketGroups);
        this.snapshot = outer.asImmutable();
      }
      this.snapshotVersion = this.version;
      // Every live record is now in the snapshot: later writes copy.
      this.epoch++;
    }
    return { buckets: this.snapshot, lateWatermarkMs: this.lateWatermarkMs };
  }

  /** When a bucket ends (exclusive): a window's end, the event time itself, or never. */
  bucketEnd(bucket: number): number {
    switch (this.bucketing) {
      case 'tumbling':
      case 'sliding':
        return bucket + this.spec!.sizeMs;
      case 'pane':
        return lastWindowEnd(bucket, this.spec!);
      case 'eventTime':
        return bucket;
      default:
        return Number.POSITIVE_INFINITY;
    }
  }

  /**
   * Folds one batch in: rows whose bucket ends at or before the late-events
   * watermark are late (when `lateFiltering`); then, when `evictWatermarkMs`
   * is given, removes every bucket ending at or before it.
   *
   * `onInvalid(row, index)` is called for a row whose time is invalid; it
   * throws (policy `'error'`) or returns (the row is dropped).
   */
  step(
    rows: readonly T[],
    time: TimeAccess<T>,
    lateFiltering: boolean,
    evictWatermarkMs: number | undefined,
    nextLateWatermarkMs: number,
    onInvalid: (row: T, index: number) => void,
    beforeEvict?: (result: FixedStepResult<T>) => void,
  ): FixedStepResult<T> {
    const track = this.trackUpdates;
    let numUpdated = 0;
    const { aggregators } = this.aggs;
    const nAggs = aggregators.length;
    const key = this.key;
    const keyField = key.kind === 'field' ? key.fields[0]! : undefined;
    const noKey = key.kind === 'none';
    const bucketing = this.bucketing;
    const sliding = bucketing === 'sliding';
    const timeField = bucketing === 'none' ? undefined : time.field;
    const lateWm = lateFiltering ? this.lateWatermarkMs : Number.NEGATIVE_INFINITY;
    const sizeMs = this.spec?.sizeMs ?? 0;
    const slideMs = sliding ? this.spec!.slideMs : sizeMs;
    const startMs = this.spec?.startMs ?? 0;
    // For 'eventTime' and 'none' the bucket is the time itself / 0 and the window length is 0.
    const pane = bucketing === 'pane';
    const tumbling = bucketing === 'tumbling';
    const windowed = tumbling || sliding;
    // Panes: rows go to one pane each, late when the last window holding the pane is.
    const unitMs = pane ? this.paneMs : sizeMs;
    const slideSpan = pane ? this.spec!.slideMs : 0;
    const candidates = sliding ? Math.ceil(sizeMs / slideMs) : 1;
    const fold = this.fold;
    const newRecord = this.newRecord;
    const epoch = this.epoch;
    const groups = this.groups;
    const late: T[] = [];
    const invalid: number[] = [];
    const updatedBuckets: number[] = [];
    const updatedKeys: unknown[] = [];
    const updatedGroups: unknown[][] = [];
    // Copy-on-write pairs to merge at the end of the batch: fresh record, then the shared one.
    const pending: unknown[][] = [];
    const starts = this.starts;
    let lastBucket = Number.NaN;
    // The bucket of the last row (tumbling windows and panes) and when it ends for lateness.
    let cacheStart = Number.NaN;
    let cacheEnd = 0;
    let inner: Map<unknown, unknown[]> | undefined;
    const version = ++this.version;
    let numUnit = -1;
    if ((tumbling || pane) && timeField !== undefined && keyField !== undefined) {
      numUnit = this.stepUnitField(rows, timeField, keyField, lateWm, epoch, version, track, onInvalid, late, invalid, updatedBuckets, updatedKeys, updatedGroups, pending);
    }

    for (let i = numUnit < 0 ? 0 : rows.length; i < rows.length; i++) {
      const row = rows[i]!;
      let t = 0;
      if (bucketing !== 'none') {
        if (timeField !== undefined) {
          const v = (row as Record<string, unknown>)[timeField];
          t = typeof v === 'number' && v <= MAX_EVENT_TIME_MS && v >= -MAX_EVENT_TIME_MS ? Math.floor(v) : bucketing === 'eventTime' && typeof v === 'object' && v !== null && !(v instanceof Date) ? windowEndOf(v) : toEpochMs(v);
        } else t = time.ms(row);
        if (t - t !== 0) {
          onInvalid(row, i);
          invalid.push(i);
          continue;
        }
      }
      // The windows (buckets) of the row that are not late.
      let nb = 0;
      if (tumbling || pane) {
        // One bucket per row; consecutive rows mostly share it, so the last one is cached.
        if (!(t >= cacheStart && t < cacheStart + unitMs)) {
          const r = (t - startMs) % unitMs;
          cacheStart = r < 0 ? t - r - unitMs : t - r;
          if (pane) {
            const rs = (cacheStart - startMs) % slideSpan;
            cacheEnd = (rs < 0 ? cacheStart - rs - slideSpan : cacheStart - rs) + sizeMs;
          } else cacheEnd = cacheStart + sizeMs;
        }
        if (cacheEnd > lateWm) starts[nb++] = cacheStart;
      } else if (windowed) {
        const r = (t - startMs) % slideMs;
        const lastStart = r < 0 ? t - r - slideMs : t - r;
        for (let c = 0; c < candidates; c++) {
          const start = lastStart - c * slideMs;
          const end = start + sizeMs;
          if (end <= t) break;
          if (end <= lateWm) continue;
          starts[nb++] = start;
        }
      } else if (bucketing === 'eventTime') {
        if (t > lateWm) starts[nb++] = t;
      } else starts[nb++] = 0;
      if (nb === 0) {
        late.push(row);
        continue;
      }
      // The grouping key, read once per row.
      let k: unknown;
      let gk: unknown;
      if (keyField !== undefined) {
        k = (row as Record<string, unknown>)[keyField] ?? null; // a missing key is the SQL null: one group with null
        if (k === 0) k = 0; // -0 is 0, as Spark normalises grouping keys
        gk = needsCanonical(k) ? key.canonical(k) : k;
      } else if (noKey) {
        k = null;
        gk = null;
      } else {
        k = key.raw(row);
        gk = key.canonical(k);
      }
      for (let w = 0; w < nb; w++) {
        const bucket = starts[w]!;
        if (bucket !== lastBucket) {
          inner = groups.get(bucket);
          if (inner === undefined) {
            groups.set(bucket, (inner = new Map()));
            this.insertBucket(bucket);
          }
          lastBucket = bucket;
        }
        let rec = inner!.get(gk);
        if (rec === undefined) {
          rec = newRecord();
          rec[nAggs] = k;
          rec[nAggs + 1] = epoch;
          rec[nAggs + 2] = version;
          inner!.set(gk, rec);
          this.totalGroups++;
          numUpdated++;
          if (track) {
            updatedBuckets.push(bucket);
            updatedKeys.push(gk);
            updatedGroups.push(rec);
          }
        } else if (rec[nAggs + 1] !== epoch) {
          if (rec[nAggs + 1] !== -epoch) {
            // First touch this batch of a record a snapshot may hold: fold into a fresh copy.
            const fresh = newRecord();
            fresh[nAggs] = rec[nAggs];
            fresh[nAggs + 1] = -epoch;
            fresh[nAggs + 3] = rec[nAggs + 3];
            pending.push(fresh, rec);
            inner!.set(gk, fresh);
            numUpdated++;
            if (track) {
              updatedBuckets.push(bucket);
              updatedKeys.push(gk);
              updatedGroups.push(fresh);
            }
            rec = fresh;
          }
        } else if (rec[nAggs + 2] !== version) {
          rec[nAggs + 2] = version;
          numUpdated++;
          if (track) {
            updatedBuckets.push(bucket);
            updatedKeys.push(gk);
            updatedGroups.push(rec);
          }
        }
        fold(rec, row);
      }
    }

    if (numUnit >= 0) numUpdated = numUnit;
    // Copy-on-write records: merge the sealed value with this batch's part.
    for (let p = 0; p < pending.length; p += 2) {
      const fresh = pending[p]!;
      const old = pending[p + 1]!;
      for (let j = 0; j < nAggs; j++) fresh[j] = aggregators[j]!.merge(old[j] as never, fresh[j] as never);
      // Its accumulators may be shared with the snapshot: copy again on the next write.
      fresh[nAggs + 1] = epoch + 0.5;
    }
    const evicted: [number, ReadonlyMap<unknown, GroupRecord>][] = [];
    const result: FixedStepResult<T> = { numUpdated, tracked: track, updatedBuckets, updatedKeys, updatedGroups, evicted, numRemoved: 0, late, invalid };
    beforeEvict?.(result);
    // Eviction: buckets are sorted by end, so only the ones that end are visited.
    let numRemoved = 0;
    if (evictWatermarkMs !== undefined) {
      while (this.head < this.sorted.length && this.bucketEnd(this.sorted[this.head]!) <= evictWatermarkMs) {
        const bucket = this.sorted[this.head++]!;
        const removed = groups.get(bucket);
        if (removed === undefined) continue;
        evicted.push([bucket, removed]);
        numRemoved += removed.size;
        this.totalGroups -= removed.size;
        groups.delete(bucket);
      }
      if (this.head > 1024 && this.head * 2 > this.sorted.length) {
        this.sorted = this.sorted.slice(this.head);
        this.head = 0;
      }
    }
    this.lateWatermarkMs = nextLateWatermarkMs;
    (result as { numRemoved: number }).numRemoved = numRemoved;
    // Only an incremental seal reads the last result; untracked, keeping it would hold the evicted groups alive for another batch.
    this.last = track ? result : undefined;
    return result;
  }

  /**
   * {@link step}'s row loop for one bucket per row (tumbling windows and
   * panes) with the time and the key read from one field each: the common
   * case, written as a loop of its own so that it stays small and
   * monomorphic. The bucket of the last row is cached with its map and
   * whether it is late (rows mostly arrive in time order). Returns the
   * number of groups written.
   */
  private stepUnitField(
    rows: readonly T[],
    timeField: string,
    keyField: string,
    lateWm: number,
    epoch: number,
    version: number,
    track: boolean,
    onInvalid: (row: T, index: number) => void,
    late: T[],
    invalid: number[],
    updatedBuckets: number[],
    updatedKeys: unknown[],
    updatedGroups: unknown[][],
    pending: unknown[][],
  ): number {
    const nAggs = this.aggs.aggregators.length;
    const fold = this.fold;
    const newRecord = this.newRecord;
    const groups = this.groups;
    const key = this.key;
    const pane = this.bucketing === 'pane';
    const spec = this.spec!;
    const sizeMs = spec.sizeMs;
    const startMs = spec.startMs;
    const unitMs = pane ? this.paneMs : sizeMs;
    const slideMs = spec.slideMs;
    let numUpdated = 0;
    let cacheStart = Number.NaN;
    let cacheUntil = Number.NaN;
    let cacheLate = false;
    let inner: Map<unknown, unknown[]> | undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const v = (row as Record<string, unknown>)[timeField];
      const t = typeof v === 'number' && v <= MAX_EVENT_TIME_MS && v >= -MAX_EVENT_TIME_MS ? Math.floor(v) : toEpochMs(v);
      if (!(t >= cacheStart && t < cacheUntil)) {
        if (t - t !== 0) {
          onInvalid(row, i);
          invalid.push(i);
          continue;
        }
        const r = (t - startMs) % unitMs;
        const start = r < 0 ? t - r - unitMs : t - r;
        let end: number;
        if (pane) {
          const rs = (start - startMs) % slideMs;
          end = (rs < 0 ? start - rs - slideMs : start - rs) + sizeMs;
        } else end = start + sizeMs;
        cacheStart = start;
        cacheUntil = start + unitMs;
        cacheLate = end <= lateWm;
        inner = undefined;
        if (!cacheLate) {
          inner = groups.get(start);
          if (inner === undefined) {
            groups.set(start, (inner = new Map()));
            this.insertBucket(start);
          }
        }
      }
      if (cacheLate) {
        late.push(row);
        continue;
      }
      let k = (row as Record<string, unknown>)[keyField] ?? null; // a missing key is the SQL null
      if (k === 0) k = 0; // -0 is 0
      const gk = needsCanonical(k) ? key.canonical(k) : k;
      let rec = inner!.get(gk);
      if (rec === undefined) {
        rec = newRecord();
        rec[nAggs] = k;
        rec[nAggs + 1] = epoch;
        rec[nAggs + 2] = version;
        inner!.set(gk, rec);
        this.totalGroups++;
        numUpdated++;
        if (track) {
          updatedBuckets.push(cacheStart);
          updatedKeys.push(gk);
          updatedGroups.push(rec);
        }
      } else if (rec[nAggs + 1] !== epoch) {
        if (rec[nAggs + 1] !== -epoch) {
          const fresh = newRecord();
          fresh[nAggs] = rec[nAggs];
          fresh[nAggs + 1] = -epoch;
          fresh[nAggs + 3] = rec[nAggs + 3];
          pending.push(fresh, rec);
          inner!.set(gk, fresh);
          numUpdated++;
          if (track) {
            updatedBuckets.push(cacheStart);
            updatedKeys.push(gk);
            updatedGroups.push(fresh);
          }
          rec = fresh;
        }
      } else if (rec[nAggs + 2] !== version) {
        rec[nAggs + 2] = version;
        numUpdated++;
        if (track) {
          updatedBuckets.push(cacheStart);
          updatedKeys.push(gk);
          updatedGroups.push(rec);
        }
      }
      fold(rec, row);
    }
    return numUpdated;
  }

  /**
   * The buckets in the working state, ascending, as a live view: read
   * `list[from .. list.length)`, and only until the next step.
   */
  bucketList(): { readonly list: readonly number[]; readonly from: number } {
    return { list: this.sorted, from: this.head };
  }

  /** The working groups of one bucket (live: read before the next step, never write). */
  bucketGroups(bucket: number): ReadonlyMap<unknown, GroupRecord> | undefined {
    return this.groups.get(bucket);
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
