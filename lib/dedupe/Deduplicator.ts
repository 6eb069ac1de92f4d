import type { Batch, EventTimeMarker } from '../batch/Batch.js';
import { UnsupportedOperationError } from '../errors/index.js';
import { encodeStableKey, type ResolvedKey, type StableKey } from '../internal/keySpec.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { DedupeState } from './DedupeState.js';
import { lateValueReader } from './lateValueReader.js';
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
export interface DedupeStepResult<T> {
  /** The rows to emit: the first row of every key not seen before, in arrival order. */
  readonly rows: T[];
  /** Late rows (collected only when asked for). */
  readonly lateRows: T[] | undefined;
  readonly numLate: number;
  /** The late-events watermark the rows were compared with (the previous batch's watermark). */
  readonly lateWatermarkMs: number;
  readonly numDuplicates: number;
  /** Keys added to the state. */
  readonly numAdded: number;
  /** Keys evicted from the state. */
  readonly numRemoved: number;
  /** Checkpoint keys written or removed by the batch (encoded lazily, when read). */
  readonly changedKeys: Iterable<string>;
}

const ENTRY_OVERHEAD_BYTES = 64;

function keyBytes(key: StableKey): number {
  return typeof key === 'number' ? ENTRY_OVERHEAD_BYTES : ENTRY_OVERHEAD_BYTES + 2 * key.length;
}

function changed(added: readonly StableKey[], removed: readonly StableKey[], watermarkChanged: boolean): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      if (watermarkChanged) yield '@watermark';
      for (let i = 0; i < added.length; i++) yield encodeStableKey(added[i]!);
      for (let i = 0; i < removed.length; i++) yield encodeStableKey(removed[i]!);
    },
  };
}

/**
 * The deduplication step shared by `dropDuplicates` and
 * `dropDuplicatesWithinWatermark`, one instance per subscription. Its state is
 * the Immutable {@link DedupeState} (what checkpoints save); a {@link TimeIndex}
 * derived from it finds the keys due for eviction without a scan.
 *
 * Per batch: rows at or below the previous batch's watermark are dropped as
 * late (when the batch carries an event-time marker); every other row is
 * looked up by key in a mutable working copy of the state map (one
 * `asMutable` per batch) and emitted when its key is new; then keys due at
 * this batch's watermark are evicted and the copy is frozen again.
 */
export class Deduplicator<T> {
  private current: DedupeState;
  private readonly index = new TimeIndex();
  private readonly readerFor = lateValueReader();
  private bytes = 0;

  constructor(
    private readonly operator: string,
    private readonly mode: DedupeMode,
    private readonly key: ResolvedKey<T>,
    restored?: DedupeState,
  ) {
    this.current = restored ?? DedupeState();
    for (const [k, time] of this.current.keys) {
      this.index.add(time, k);
      this.bytes += keyBytes(k);
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
    const lateW = this.current.watermarkMs;
    const m = this.current.keys.asMutable();
    const out: T[] = [];
    const added: StableKey[] = [];
    let addedTimes: number[] | undefined;
    let late: T[] | undefined;
    let numLate = 0;
    let dups = 0;

    if (marker === undefined) {
      for (let i = 0; i < n; i++) {
        const row = rows[i]!;
        const k = keyOf(row);
        if (m.has(k)) {
          dups++;
          continue;
        }
        m.set(k, Number.POSITIVE_INFINITY);
        added.push(k);
        out.push(row);
      }
    } else {
      const read = this.readerFor(marker);
      const delayMs = marker.delayMs;
      const evictable = within || this.evictableFor(marker);
      const times: number[] = [];
      addedTimes = times;
      for (let i = 0; i < n; i++) {
        const row = rows[i]!;
        const t = read(row);
        if (t <= lateW) {
          numLate++;
          if (collectLate) (late ??= []).push(row);
          continue;
        }
        const k = keyOf(row);
        if (m.has(k)) {
          dups++;
          continue;
        }
        let time = !evictable ? Number.POSITIVE_INFINITY : within ? t + delayMs : t;
        if (time !== time) time = Number.POSITIVE_INFINITY; // NaN: an event time this operator cannot read; never evicted
        m.set(k, time);
        added.push(k);
        times.push(time);
        out.push(row);
      }
    }

    // The batch succeeded: file the new keys and evict with this batch's watermark.
    const index = this.index;
    let bytes = this.bytes;
    if (addedTimes !== undefined) for (let i = 0; i < added.length; i++) index.add(addedTimes[i]!, added[i]!);
    for (let i = 0; i < added.length; i++) bytes += keyBytes(added[i]!);
    const removed: StableKey[] = [];
    if (marker !== undefined) {
      index.drain(batch.watermark, false, (k, time) => {
        if (m.get(k) === time) {
          m.remove(k);
          removed.push(k);
        }
      });
    }
    for (let i = 0; i < removed.length; i++) bytes -= keyBytes(removed[i]!);
    this.bytes = bytes;
    const watermarkMs = Math.max(lateW, batch.watermark);
    this.current = DedupeState({ watermarkMs, keys: m.asImmutable() });
    return {
      rows: out,
      lateRows: late,
      numLate,
      lateWatermarkMs: lateW,
      numDuplicates: dups,
      numAdded: added.length,
      numRemoved: removed.length,
      changedKeys: changed(added, removed, watermarkMs !== lateW),
    };
  }
}
