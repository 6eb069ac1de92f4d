import type { Batch, EventTimeMarker } from '../batch/Batch.js';
import { UnsupportedOperationError } from '../errors/index.js';
import type { ResolvedKey, StableKey } from '../internal/keySpec.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { changedEntries, type KeyedStepResult } from '../state/KeyedStepResult.js';
import { DedupeState, dedupeSegment, type DedupeSegment } from './DedupeState.js';
import { lateValueReader } from '../internal/lateValueReader.js';
import { TimeIndex } from './TimeIndex.js';

/**
 * `'first'`: `dropDuplicates` — a key is remembered until the eviction
 * watermark passes its event time (only when the event-time column is a key
 * column; otherwise forever). `'withinWatermark'`: `dropDuplicatesWithinWatermark`
 * — a key is remembered until its first row's event time plus the watermark
 * delay is at or below the eviction watermark.
 */
export type DedupeMode = 'first' | 'withinWatermark';

/** What one batch did. */
export interface DedupeStepResult<T> extends KeyedStepResult<T, T> {
  /** The rows to emit: the first row of every key not seen before, in arrival order. */
  readonly rows: T[];
  readonly numDuplicates: number;
  /** Keys added to the state. */
  readonly numAdded: number;
  /** Keys evicted from the state. */
  readonly numRemoved: number;
}

const ENTRY_OVERHEAD_BYTES = 64;

function keyBytes(key: StableKey): number {
  return typeof key === 'number' ? ENTRY_OVERHEAD_BYTES : ENTRY_OVERHEAD_BYTES + 2 * key.length;
}

const segmentEntry = (id: number): string => `g${id}`;

/**
 * The deduplication step shared by `dropDuplicates` and
 * `dropDuplicatesWithinWatermark`, one instance per subscription.
 *
 * Its state is the Immutable {@link DedupeState} (what checkpoints save): the
 * keys each batch added, as one frozen segment per batch. Two structures
 * derived from it (rebuilt from the state on recovery, never saved) keep the
 * hot path at native speed: a `Map` from key to eviction time for the
 * per-row lookup, and a {@link TimeIndex} of segments by their earliest
 * eviction time, so eviction visits only segments with keys due.
 *
 * Per batch: rows at or below the previous batch's watermark are dropped as
 * late (when the batch carries an event-time marker); every other row is
 * looked up by key and emitted when the key is new; the new keys become one
 * segment; then keys due at this batch's watermark are evicted, each touched
 * segment being replaced by the smaller segment of its remaining keys.
 */
export class Deduplicator<T> {
  private current: DedupeState;
  private readonly seen = new Map<StableKey, number>();
  private readonly due = new TimeIndex();
  private readonly readerFor = lateValueReader();
  private bytes = 0;

  constructor(
    private readonly operator: string,
    private readonly mode: DedupeMode,
    private readonly key: ResolvedKey<T>,
    restored?: DedupeState,
  ) {
    this.current = restored ?? DedupeState();
    for (const [id, segment] of this.current.segments) {
      for (let i = 0; i < segment.keys.length; i++) {
        this.seen.set(segment.keys[i]!, segment.times[i]!);
        this.bytes += keyBytes(segment.keys[i]!);
      }
      this.due.add(segment.minTime, id);
    }
  }

  /** The state after the last batch. */
  get state(): DedupeState {
    return this.current;
  }

  /** Approximate bytes held by the state (keys plus a fixed per-entry overhead). */
  get memoryUsedBytes(): number {
    return this.bytes;
  }

  /** `true` when the key includes the event-time column, so that `dropDuplicates` may evict by it. */
  private evictableFor(marker: EventTimeMarker): boolean {
    const fields = this.key.fields;
    if (fields === undefined) return false;
    if (fields.length === 0) return true;
    return marker.read === undefined && fields.includes(marker.field);
  }

  /** Processes one batch; the state advances only when the whole batch succeeded. */
  step(batch: Batch<T>, collectLate: boolean): DedupeStepResult<T> {
    const rows = batch.rows;
    const n = rows.length;
    const marker = batch.eventTime;
    const within = this.mode === 'withinWatermark';
    if (within && marker === undefined) throw new UnsupportedOperationError(this.operator, UNSUPPORTED.dedupWithinWatermarkWithoutWatermark);
    const keyOf = this.key.keyOf;
    const seen = this.seen;
    const lateW = this.current.watermarkMs;
    const out: T[] = [];
    const added: StableKey[] = [];
    const times: number[] = [];
    let late: T[] | undefined;
    let numLate = 0;
    let dups = 0;

    try {
      if (marker === undefined) {
        for (let i = 0; i < n; i++) {
          const row = rows[i]!;
          const k = keyOf(row);
          if (seen.has(k)) {
            dups++;
            continue;
          }
          seen.set(k, Number.POSITIVE_INFINITY);
          added.push(k);
          times.push(Number.POSITIVE_INFINITY);
          out.push(row);
        }
      } else {
        const read = this.readerFor(marker);
        const delayMs = marker.delayMs;
        const evictable = within || this.evictableFor(marker);
        for (let i = 0; i < n; i++) {
          const row = rows[i]!;
          const t = read(row);
          if (t <= lateW) {
            numLate++;
            if (collectLate) (late ??= []).push(row);
            continue;
          }
          const k = keyOf(row);
          if (seen.has(k)) {
            dups++;
            continue;
          }
          let time = !evictable ? Number.POSITIVE_INFINITY : within ? t + delayMs : t;
          if (time !== time) time = Number.POSITIVE_INFINITY; // NaN: an event time this operator cannot read; never evicted
          seen.set(k, time);
          added.push(k);
          times.push(time);
          out.push(row);
        }
      }
    } catch (error) {
      for (let i = 0; i < added.length; i++) seen.delete(added[i]!);
      throw error;
    }

    // The batch succeeded: its new keys become one segment; then evict with this batch's watermark.
    let bytes = this.bytes;
    for (let i = 0; i < added.length; i++) bytes += keyBytes(added[i]!);
    let segments = this.current.segments;
    let size = this.current.size + added.length;
    const touched: number[] = [];
    if (added.length > 0 || marker !== undefined) {
      const m = segments.asMutable();
      if (added.length > 0) {
        const segment = dedupeSegment(added, times);
        m.set(batch.batchId, segment);
        this.due.add(segment.minTime, batch.batchId);
        touched.push(batch.batchId);
      }
      let numRemoved = 0;
      if (marker !== undefined) {
        const watermark = batch.watermark;
        const refile: DedupeSegment[] = [];
        const refileIds: number[] = [];
        this.due.drain(watermark, false, (id, time) => {
          const segment = m.get(id as number);
          if (segment === undefined || segment.minTime !== time) return; // stale index entry
          const keepKeys: StableKey[] = [];
          const keepTimes: number[] = [];
          for (let i = 0; i < segment.keys.length; i++) {
            const k = segment.keys[i]!;
            const t = segment.times[i]!;
            if (t <= watermark) {
              if (seen.get(k) === t) seen.delete(k);
              bytes -= keyBytes(k);
              numRemoved++;
            } else {
              keepKeys.push(k);
              keepTimes.push(t);
            }
          }
          if (keepKeys.length === 0) m.remove(id as number);
          else {
            const smaller = dedupeSegment(keepKeys, keepTimes);
            m.set(id as number, smaller);
            refile.push(smaller);
            refileIds.push(id as number);
          }
          if (id !== batch.batchId || added.length === 0) touched.push(id as number);
        });
        for (let i = 0; i < refile.length; i++) this.due.add(refile[i]!.minTime, refileIds[i]!);
      }
      size -= numRemoved;
      segments = m.asImmutable();
      this.bytes = bytes;
      const watermarkMs = Math.max(lateW, batch.watermark);
      this.current = DedupeState({ watermarkMs, size, segments });
      return this.result(out, late, numLate, lateW, dups, added.length, numRemoved, touched, watermarkMs !== lateW);
    }
    this.bytes = bytes;
    return this.result(out, late, numLate, lateW, dups, 0, 0, touched, false);
  }

  private result(
    rows: T[],
    lateRows: T[] | undefined,
    numLate: number,
    lateWatermarkMs: number,
    numDuplicates: number,
    numAdded: number,
    numRemoved: number,
    touched: readonly number[],
    watermarkChanged: boolean,
  ): DedupeStepResult<T> {
    return { rows, lateRows, numLate, lateWatermarkMs, numDuplicates, numAdded, numRemoved, changedKeys: changedEntries(watermarkChanged, segmentEntry, touched) };
  }
}
