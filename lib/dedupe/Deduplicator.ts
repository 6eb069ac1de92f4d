import type { Batch, EventTimeMarker } from '../batch/Batch.js';
import { UnsupportedOperationError } from '../errors/index.js';
import type { ResolvedKey, StableKey } from '../internal/keySpec.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { changedEntries, type KeyedStepResult } from '../state/KeyedStepResult.js';
import { DedupeState, SplitKeySegment, dedupeSegment, type DedupeSegment, type WholeKey } from './DedupeState.js';
import { ENTRY_OVERHEAD_BYTES, EventTimeKeyIndex, eventTimeKeys, restBytes, type EventTimeKeys, type RestKey } from './EventTimeKeys.js';
import { lateValueReader } from '../internal/lateValueReader.js';
import { TimeIndex } from './TimeIndex.js';
import { markerColumn } from '../time/eventTime.js';

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

function keyBytes(key: StableKey): number {
  return typeof key === 'number' ? ENTRY_OVERHEAD_BYTES : ENTRY_OVERHEAD_BYTES + 2 * key.length;
}

const segmentEntry = (id: number): string => `g${id}`;

/** The segment of a fast-path batch's keys that byTime does not hold (see `Deduplicator.trackState`), or `undefined` when there are none. */
function wholeKeySegment(rests: readonly (RestKey | WholeKey)[], times: readonly number[], compose: (t: number, rest: RestKey) => StableKey): SplitKeySegment | undefined {
  let whole: WholeKey[] | undefined;
  let wholeTimes: number[] | undefined;
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rests.length; i++) {
    const rest = rests[i]!;
    if (typeof rest !== 'object') continue;
    (whole ??= []).push(rest);
    (wholeTimes ??= []).push(times[i]!);
    if (times[i]! < min) min = times[i]!;
  }
  return whole === undefined ? undefined : new SplitKeySegment(whole, wholeTimes!, min, compose);
}

/**
 * The deduplication step shared by `dropDuplicates` and
 * `dropDuplicatesWithinWatermark`, one instance per subscription.
 *
 * Its state is the Immutable {@link DedupeState} (what checkpoints save): the
 * keys each batch added, as one frozen segment per batch. Two structures
 * derived from it (rebuilt from the state on recovery, never saved) keep the
 * hot path at native speed: a `Map` from key to eviction time for the
 * per-row lookup, and a {@link TimeIndex} of segments by their earliest
 * eviction time, so eviction visits only segments with keys due. For
 * `dropDuplicates` on field names that include the event-time column, rows
 * whose event time is a number are looked up instead in an
 * {@link EventTimeKeyIndex} (event time → rest of the key, no key string per
 * row, evicted by whole time spans) and their segments are
 * {@link SplitKeySegment}s, which build the keys only when a checkpoint reads
 * them.
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
  /** The event-time fast path's keys (see {@link splitFor}); `seen` holds the others. */
  private readonly byTime = new EventTimeKeyIndex();
  private split: EventTimeKeys | undefined;
  private adopted: EventTimeKeys | undefined;
  /** `true` while `seen` may hold a key that a fast-path row could have (restored keys it could not adopt, keys from batches without a marker). */
  private seenMayHoldSplit = false;
  private bytes = 0;

  constructor(
    private readonly operator: string,
    private readonly mode: DedupeMode,
    private readonly key: ResolvedKey<T>,
    restored?: DedupeState,
    /**
     * Keep every key in the state's segments (a query context is current: a
     * checkpoint reads them). Without, the event-time fast path's keys live
     * only in {@link byTime}, which evicts and counts them itself; the
     * segments hold the other keys.
     */
    private readonly trackState = true,
  ) {
    let state = restored ?? DedupeState();
    // Restored segments are held with whole keys; the event-time fast path adopts the ones it can on its first batch.
    if (state.segments.some((segment) => segment instanceof SplitKeySegment)) {
      state = state.set('segments', state.segments.map((segment) => (segment instanceof SplitKeySegment ? dedupeSegment(segment.keys, segment.times) : segment)));
    }
    this.current = state;
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
    return this.trackState ? this.bytes : this.bytes + this.byTime.bytes;
  }

  /** `true` when the key includes the event-time column, so that `dropDuplicates` may evict by it. */
  private evictableFor(marker: EventTimeMarker): boolean {
    const fields = this.key.fields;
    if (fields === undefined) return false;
    if (fields.length === 0) return true;
    // A plain column, or one read through its unit or format (`{ field, format }`): the key holds it by name.
    const column = markerColumn(marker);
    return column !== undefined && fields.includes(column);
  }

  /**
   * The event-time split of the key for `marker`, when `dropDuplicates`'
   * key is field names including the marker's plain event-time column (see
   * {@link eventTimeKeys}); cached across batches.
   */
  private splitFor(marker: EventTimeMarker): EventTimeKeys | undefined {
    if (this.mode !== 'first' || marker.read !== undefined || marker.isWindow) return undefined;
    if (this.split === undefined || this.split.field !== marker.field) {
      const split = eventTimeKeys(this.key, marker.field);
      if (split === undefined) return undefined;
      this.split = split;
    }
    return this.split;
  }

  /**
   * Moves the keys in {@link seen} (restored from a checkpoint) that the
   * event-time split can hold into {@link byTime}; the ones left over are
   * then looked up by every fast-path row too, while any remain.
   */
  private adopt(split: EventTimeKeys): void {
    if (this.adopted === split) return;
    this.adopted = split;
    const seen = this.seen;
    // Untracked, a key's segment would count it too once byTime held it: the keys stay in seen.
    if (this.trackState) for (const [k, t] of seen) {
      if (!Number.isFinite(t)) continue;
      const rest = split.parse(k, t);
      if (rest === undefined) continue;
      this.byTime.add(t, rest);
      seen.delete(k);
    }
    if (seen.size > 0) this.seenMayHoldSplit = true;
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
    const byTime = this.byTime;
    const lateW = this.current.watermarkMs;
    const out: T[] = [];
    const added: StableKey[] = [];
    const times: number[] = [];
    const split = marker === undefined ? undefined : this.splitFor(marker);
    const rests: (RestKey | WholeKey)[] = [];
    let minTime = Number.POSITIVE_INFINITY;
    let addedBytes = 0;
    let late: T[] | undefined;
    let numLate = 0;
    let dups = 0;
    let fastOnly = 0;

    try {
      if (marker === undefined) {
        // Keys the event-time fast path holds are looked up there too (a batch without a marker after batches with one).
        const prior = byTime.size > 0 ? this.split : undefined;
        for (let i = 0; i < n; i++) {
          const row = rows[i]!;
          if (prior !== undefined) {
            const r = row as Record<string, unknown>;
            const v = r[prior.field];
            const rest = typeof v === 'number' && v - v === 0 ? prior.restOf(r) : undefined;
            if (rest !== undefined && byTime.has(v as number, rest)) {
              dups++;
              continue;
            }
          }
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
      } else if (split !== undefined) {
        // Event-time fast path: (event time, rest of the key) looked up in byTime, no key string per row.
        this.adopt(split);
        if (this.seenMayHoldSplit && seen.size === 0) this.seenMayHoldSplit = false;
        const checkSeen = this.seenMayHoldSplit;
        const lateRows: T[] = [];
        const counts = this.counts;
        counts[0] = 0; // late rows
        counts[1] = 0; // duplicates
        counts[2] = Number.POSITIVE_INFINITY; // smallest time added
        counts[3] = 0; // bytes added
        counts[4] = 0; // keys held by byTime alone
        this.foldFast(rows, split, this.readerFor(marker), lateW, checkSeen, collectLate, out, lateRows, added, rests, times);
        numLate = counts[0]!;
        dups = counts[1]!;
        minTime = counts[2]!;
        addedBytes = counts[3]!;
        fastOnly = counts[4]!;
        if (lateRows.length > 0) late = lateRows;
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
      for (let i = 0; i < rests.length; i++) {
        const rest = rests[i]!;
        if (typeof rest !== 'object') byTime.remove(times[i]!, rest);
      }
      // Untracked, the fast-path keys of this batch are those of the rows it emitted so far.
      if (!this.trackState && split !== undefined) this.forgetEmitted(out, split);
      throw error;
    }

    // The batch succeeded: its new keys become one segment; then evict with this batch's watermark.
    if (marker === undefined && added.length > 0) this.seenMayHoldSplit = true;
    const numAdded = split === undefined ? added.length : rests.length + fastOnly;
    let bytes = this.bytes + addedBytes;
    if (split === undefined) for (let i = 0; i < added.length; i++) bytes += keyBytes(added[i]!);
    this.bytes = bytes;
    if (numAdded === 0 && marker === undefined) return this.result(out, late, numLate, lateW, dups, 0, 0, [], false);
    const segment = numAdded === 0 ? undefined : split === undefined ? dedupeSegment(added, times) : this.trackState ? new SplitKeySegment(rests, times, minTime, split.compose) : wholeKeySegment(rests, times, split.compose);
    const evicted = this.commit(batch.batchId, segment, marker === undefined ? undefined : batch.watermark);
    const watermarkMs = Math.max(lateW, batch.watermark);
    this.current = DedupeState({ watermarkMs, size: this.current.size + numAdded - evicted.numRemoved, segments: evicted.segments });
    return this.result(out, late, numLate, lateW, dups, numAdded, evicted.numRemoved, evicted.touched, watermarkMs !== lateW);
  }

  /**
   * Files a batch's new segment (if any) and, with a `watermark`, evicts the
   * keys due at it: each segment with keys due is replaced by the smaller
   * segment of its remaining keys, or removed. Updates {@link bytes}. Kept out
   * of {@link step} (and without a closure per batch), so that the Immutable
   * updates here never deoptimise the row loop's code.
   */
  private commit(batchId: number, segment: DedupeSegment | undefined, watermark: number | undefined): { segments: DedupeState['segments']; numRemoved: number; touched: number[] } {
    const m = this.current.segments.asMutable();
    const touched: number[] = [];
    if (segment !== undefined) {
      m.set(batchId, segment);
      this.due.add(segment.minTime, batchId);
      touched.push(batchId);
    }
    let numRemoved = 0;
    if (watermark !== undefined) {
      const dueIds: StableKey[] = [];
      const dueTimes: number[] = [];
      this.due.drainTo(watermark, dueIds, dueTimes);
      const refile: DedupeSegment[] = [];
      const refileIds: number[] = [];
      for (let d = 0; d < dueIds.length; d++) {
        const id = dueIds[d] as number;
        const old = m.get(id);
        if (old === undefined || old.minTime !== dueTimes[d]) continue; // stale index entry
        const smaller = old instanceof SplitKeySegment ? this.evictSplit(old, watermark) : this.evictWhole(old, watermark);
        numRemoved += this.lastRemoved;
        if (smaller === undefined) m.remove(id);
        else {
          m.set(id, smaller);
          refile.push(smaller);
          refileIds.push(id);
        }
        if (id !== batchId || segment === undefined) touched.push(id);
      }
      for (let i = 0; i < refile.length; i++) this.due.add(refile[i]!.minTime, refileIds[i]!);
      if (this.byTime.size > 0) {
        const held = this.byTime.keys;
        this.byTime.evict(watermark);
        // Untracked, the fast path's keys are in no segment: byTime's count is theirs.
        if (!this.trackState) numRemoved += held - this.byTime.keys;
      }
    }
    return { segments: m.asImmutable(), numRemoved, touched };
  }

  /** Takes back from byTime the fast-path keys of `emitted`, rows of a batch that failed (untracked: they are in no list of the batch). */
  private forgetEmitted(emitted: readonly T[], split: EventTimeKeys): void {
    for (let i = 0; i < emitted.length; i++) {
      const r = emitted[i] as Record<string, unknown>;
      const t = r[split.field];
      if (typeof t !== 'number' || t - t !== 0) continue;
      const rest = split.restOf(r);
      // A row with a rest key took the fast path (the others are in `added`).
      if (rest !== undefined) this.byTime.remove(t, rest);
    }
  }

  /** Keys removed by the last {@link evictSplit} / {@link evictWhole}. */
  private lastRemoved = 0;

  /** The entries of a fast-path segment above `watermark` (`undefined`: none); keys at or below it leave `seen` (byTime drops its own keys itself, by whole time spans). */
  private evictSplit(segment: SplitKeySegment, watermark: number): SplitKeySegment | undefined {
    const seen = this.seen;
    const keepRests: (RestKey | WholeKey)[] = [];
    const keepTimes: number[] = [];
    let keepMin = Number.POSITIVE_INFINITY;
    const segmentRests = segment.rests;
    const segmentTimes = segment.times;
    let bytes = this.bytes;
    let removed = 0;
    for (let i = 0; i < segmentRests.length; i++) {
      const rest = segmentRests[i]!;
      const t = segmentTimes[i]!;
      if (t <= watermark) {
        if (typeof rest === 'object') {
          if (seen.get(rest.key) === t) seen.delete(rest.key);
          bytes -= keyBytes(rest.key);
        } else bytes -= restBytes(rest);
        removed++;
      } else {
        keepRests.push(rest);
        keepTimes.push(t);
        if (t < keepMin) keepMin = t;
      }
    }
    this.bytes = bytes;
    this.lastRemoved = removed;
    return keepRests.length > 0 ? segment.withEntries(keepRests, keepTimes, keepMin) : undefined;
  }

  /** The keys of a segment above `watermark` (`undefined`: none); the others leave `seen` (a restored key adopted by byTime is evicted by it). */
  private evictWhole(segment: DedupeSegment, watermark: number): DedupeSegment | undefined {
    const seen = this.seen;
    const keepKeys: StableKey[] = [];
    const keepTimes: number[] = [];
    let bytes = this.bytes;
    let removed = 0;
    for (let i = 0; i < segment.keys.length; i++) {
      const k = segment.keys[i]!;
      const t = segment.times[i]!;
      if (t <= watermark) {
        if (seen.get(k) === t) seen.delete(k);
        bytes -= keyBytes(k);
        removed++;
      } else {
        keepKeys.push(k);
        keepTimes.push(t);
      }
    }
    this.bytes = bytes;
    this.lastRemoved = removed;
    return keepKeys.length > 0 ? dedupeSegment(keepKeys, keepTimes) : undefined;
  }

  /** The fast path's scalars of the last {@link foldFast}: late rows, duplicates, smallest time added, bytes added, keys added to byTime alone (untracked). */
  private readonly counts = new Float64Array(5);

  /**
   * The event-time fast path's row loop (see {@link step}): `(event time, rest
   * of the key)` looked up in byTime, no key string per row. A method of its
   * own with nothing after the loop (its scalars are kept in {@link counts}
   * as they change), so that the loop's optimised code, entered mid-loop and
   * again on each later batch, never deoptimises at the loop's exit.
   */
  private foldFast(
    rows: readonly T[],
    split: EventTimeKeys,
    read: (row: unknown) => number,
    lateW: number,
    checkSeen: boolean,
    collectLate: boolean,
    out: T[],
    late: T[],
    added: StableKey[],
    rests: (RestKey | WholeKey)[],
    times: number[],
  ): void {
    const keyOf = this.key.keyOf;
    const seen = this.seen;
    const byTime = this.byTime;
    const counts = this.counts;
    const field = split.field;
    const restOf = split.restOf;
    const track = this.trackState;
    const n = rows.length;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const r = row as Record<string, unknown>;
      const v = r[field];
      const isNumber = typeof v === 'number';
      const t = isNumber ? (v as number) : read(row);
      if (t <= lateW) {
        counts[0] = counts[0]! + 1;
        if (collectLate) late.push(row);
        continue;
      }
      const rest = isNumber && t - t === 0 ? restOf(r) : undefined;
      if (rest !== undefined) {
        if ((checkSeen && seen.has(keyOf(row))) || !byTime.add(t, rest)) {
          counts[1] = counts[1]! + 1;
          continue;
        }
        if (!track) {
          // byTime holds the key, counts it and its bytes; only the whole keys need a segment.
          counts[4] = counts[4]! + 1;
          out.push(row);
          continue;
        }
        rests.push(rest);
        counts[3] = counts[3]! + restBytes(rest);
      } else {
        const k = keyOf(row);
        if (seen.has(k)) {
          counts[1] = counts[1]! + 1;
          continue;
        }
        let time = t;
        if (time !== time) time = Number.POSITIVE_INFINITY; // NaN: an event time this operator cannot read; never evicted
        seen.set(k, time);
        added.push(k);
        rests.push({ key: k });
        counts[3] = counts[3]! + keyBytes(k);
      }
      const time = t === t ? t : Number.POSITIVE_INFINITY;
      if (time < counts[2]!) counts[2] = time;
      times.push(time);
      out.push(row);
    }
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
