import type { Map as IMap } from 'immutable';
import type { StableKey } from '../internal/keySpec.js';
import { inTimeRange, type ResolvedJoinCondition, type ResolvedTimeRange } from './JoinCondition.js';
import { sideEntryKey, type JoinEntry, type JoinSideState, type JoinState } from './JoinState.js';
import type { JoinTimeIndex } from './JoinTimeIndex.js';
import { sideStateWatermark, type SideEviction } from './stateWatermarks.js';

/** Eviction time given to a row whose time is missing: it is evicted at the first eviction. */
const MISSING_TIME = -8.64e15;

/** How one side of a running join evicts, with its time index (mutable, per subscription). */
export interface JoinSideRuntime {
  readonly eviction: SideEviction | undefined;
  /** Reads a row's eviction time; `undefined` when the side is never evicted. */
  readonly evictionTime: ((row: never) => number) | undefined;
  readonly index: JoinTimeIndex;
}

/** How output rows are built. */
export interface JoinEmitter<TLeft, TRight, O> {
  /** A joined pair, or a row padded with `null` for the missing side. */
  readonly row: (left: TLeft | null, right: TRight | null) => O;
  /** A left-semi row. */
  readonly semi: (left: TLeft) => O;
}

/** One step's input: the rows each side delivered and the two watermarks. */
export interface JoinStepInput<TLeft, TRight> {
  /** The left rows of this step (`undefined` or empty when the left sent nothing). */
  readonly leftRows: readonly TLeft[] | undefined;
  readonly rightRows: readonly TRight[] | undefined;
  /** Reads the value compared with the late-events watermark, per side; `undefined` when that side has no watermarked column. */
  readonly leftLateValue: ((row: TLeft) => number) | undefined;
  readonly rightLateValue: ((row: TRight) => number) | undefined;
  /** The previous step's global watermark: rows at or below it are late. */
  readonly lateWatermark: number;
  /** This step's global watermark: state is evicted with it. */
  readonly watermark: number;
}

/** What one step produced. */
export interface JoinStepResult<TLeft, TRight, O> {
  readonly state: JoinState<TLeft, TRight>;
  readonly output: O[];
  readonly lateLeft: TLeft[];
  readonly lateRight: TRight[];
  /** Checkpoint entry keys written or removed by the step. */
  readonly changedKeys: string[];
  /** Rows buffered or whose `matched` flag changed. */
  readonly numRowsUpdated: number;
  /** Buffered rows evicted. */
  readonly numRowsRemoved: number;
  readonly leftStateWatermark: number | undefined;
  readonly rightStateWatermark: number | undefined;
}

interface ScratchEntry<T> {
  row: T;
  t: number;
  evt: number;
  matched: boolean;
}

/** Per-side scratch of one step: rows to buffer and committed rows newly matched. */
class SideScratch<T> {
  readonly added = new Map<StableKey, ScratchEntry<T>[]>();
  readonly marked = new Map<StableKey, Set<number>>();

  add(key: StableKey, entry: ScratchEntry<T>): void {
    const list = this.added.get(key);
    if (list === undefined) this.added.set(key, [entry]);
    else list.push(entry);
  }

  /** Marks committed entry `i` of `key` as matched; `false` when it already was marked in this step. */
  mark(key: StableKey, i: number): boolean {
    let set = this.marked.get(key);
    if (set === undefined) {
      set = new Set<number>();
      this.marked.set(key, set);
    }
    if (set.has(i)) return false;
    set.add(i);
    return true;
  }

  isMarked(key: StableKey, i: number): boolean {
    return this.marked.get(key)?.has(i) ?? false;
  }
}

function evictionTimeOfRow<T>(runtime: JoinSideRuntime, row: T): number {
  if (runtime.evictionTime === undefined) return Number.NaN;
  const evt = (runtime.evictionTime as (r: T) => number)(row);
  return Number.isNaN(evt) ? MISSING_TIME : evt;
}

function isSortedByEvt(entries: readonly { evt: number }[]): boolean {
  for (let i = 1; i < entries.length; i++) if (entries[i - 1]!.evt > entries[i]!.evt) return false;
  return true;
}

const byEvt = (a: { evt: number }, b: { evt: number }): number => a.evt - b.evt;

/** Appends `added` to a key's committed rows, keeping them ordered by eviction time (stable for equal times). */
function appendOrdered<T>(base: readonly JoinEntry<T>[], added: ScratchEntry<T>[], ordered: boolean): readonly JoinEntry<T>[] {
  if (!ordered) return base.length === 0 ? added : base.concat(added);
  if (!isSortedByEvt(added)) added.sort(byEvt);
  if (base.length === 0) return added;
  if (base[base.length - 1]!.evt <= added[0]!.evt) return base.concat(added);
  const out: JoinEntry<T>[] = new Array<JoinEntry<T>>(base.length + added.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < base.length && j < added.length) out[k++] = base[i]!.evt <= added[j]!.evt ? base[i++]! : added[j++]!;
  while (i < base.length) out[k++] = base[i++]!;
  while (j < added.length) out[k++] = added[j++]!;
  return out;
}

/**
 * Commits a side's scratch into its Immutable state (one new array per
 * touched key), files new keys and new oldest rows in the time index, then
 * evicts the rows at or below `stateWatermark`, handing each evicted row to
 * `onEvicted`.
 */
function commitAndEvict<T>(
  side: JoinSideState<T>,
  scratch: SideScratch<T>,
  runtime: JoinSideRuntime,
  stateWatermark: number | undefined,
  prefix: 'L' | 'R',
  changed: string[],
  onEvicted: ((entry: JoinEntry<T>) => void) | undefined,
): { side: JoinSideState<T>; updated: number; removed: number } {
  let updated = 0;
  let removed = 0;
  let size = side.size;
  const ordered = runtime.eviction !== undefined;
  const index = runtime.index;
  if (scratch.added.size === 0 && scratch.marked.size === 0 && (stateWatermark === undefined || index.size === 0)) return { side, updated, removed };
  const rows = side.rows.withMutations((m: IMap<StableKey, readonly JoinEntry<T>[]>) => {
    for (const [key, marks] of scratch.marked) {
      const base = m.get(key)!;
      const copy = base.slice();
      for (const i of marks) {
        const e = copy[i]!;
        if (!e.matched) {
          copy[i] = { row: e.row, t: e.t, evt: e.evt, matched: true };
          updated++;
        }
      }
      const added = scratch.added.get(key);
      if (added !== undefined) {
        m.set(key, appendOrdered(copy, added, ordered));
        scratch.added.delete(key);
        size += added.length;
        updated += added.length;
        if (ordered && added[0]!.evt < (base[0]?.evt ?? Number.POSITIVE_INFINITY)) index.add(added[0]!.evt, key);
      } else m.set(key, copy);
      changed.push(sideEntryKey(prefix, key));
    }
    for (const [key, added] of scratch.added) {
      const base = m.get(key);
      const next = appendOrdered(base ?? [], added, ordered);
      m.set(key, next);
      size += added.length;
      updated += added.length;
      if (ordered && (base === undefined || next[0]!.evt < base[0]!.evt)) index.add(next[0]!.evt, key);
      changed.push(sideEntryKey(prefix, key));
    }
    if (stateWatermark === undefined) return;
    const due = index.drainDue(stateWatermark);
    for (let d = 0; d < due.length; d++) {
      const key = due[d]!;
      const entries = m.get(key);
      if (entries === undefined) continue;
      let p = 0;
      while (p < entries.length && entries[p]!.evt <= stateWatermark) p++;
      if (p === 0) continue;
      if (onEvicted !== undefined) for (let i = 0; i < p; i++) onEvicted(entries[i]!);
      removed += p;
      size -= p;
      if (p === entries.length) m.delete(key);
      else {
        m.set(key, entries.slice(p));
        index.add(entries[p]!.evt, key);
      }
      changed.push(sideEntryKey(prefix, key));
    }
  });
  return { side: { rows, size }, updated, removed };
}

/**
 * Recomputes every buffered row's eviction time for a (new) eviction rule,
 * re-orders each key's rows by it and rebuilds the time index. Used on
 * recovery and when the watermarked columns become known.
 */
export function reindexSide<T>(side: JoinSideState<T>, runtime: JoinSideRuntime): JoinSideState<T> {
  runtime.index.clear();
  if (side.size === 0) return side;
  const ordered = runtime.eviction !== undefined;
  const rows = side.rows.withMutations((m: IMap<StableKey, readonly JoinEntry<T>[]>) => {
    for (const [key, entries] of side.rows) {
      const next: JoinEntry<T>[] = entries.map((e) => ({ row: e.row, t: e.t, evt: evictionTimeOfRow(runtime, e.row), matched: e.matched }));
      if (ordered) {
        next.sort(byEvt);
        runtime.index.add(next[0]!.evt, key);
      }
      m.set(key, next);
    }
  });
  return { rows, size: side.size };
}

function rangeOf<TLeft, TRight>(cond: ResolvedJoinCondition<TLeft, TRight>): ResolvedTimeRange<unknown, unknown> | undefined {
  return cond.range as ResolvedTimeRange<unknown, unknown> | undefined;
}

/**
 * One micro-batch of a stream-stream join (Spark's
 * `StreamingSymmetricHashJoinExec.processPartitions`): the left rows join the
 * buffered right rows, then the right rows join the buffered left rows
 * (including this step's), both sides are buffered, and finally each side
 * evicts what its state watermark says can no longer match, emitting
 * null-padded rows for the unmatched rows of preserved sides.
 *
 * Pure with respect to `state` (a new state is returned); the time indexes
 * in `runtime` are updated in place.
 */
export function joinStep<TLeft, TRight, O>(
  cond: ResolvedJoinCondition<TLeft, TRight>,
  emit: JoinEmitter<TLeft, TRight, O>,
  runtime: { readonly left: JoinSideRuntime; readonly right: JoinSideRuntime },
  state: JoinState<TLeft, TRight>,
  input: JoinStepInput<TLeft, TRight>,
): JoinStepResult<TLeft, TRight, O> {
  const output: O[] = [];
  const lateLeft: TLeft[] = [];
  const lateRight: TRight[] = [];
  const range = rangeOf(cond);
  const { whereLeft, whereRight, whereBoth, leftPreserved, rightPreserved, semi, leftKey, rightKey, leftKeyIsNull, rightKeyIsNull } = cond;
  const leftScratch = new SideScratch<TLeft>();
  const rightScratch = new SideScratch<TRight>();
  const lateWm = input.lateWatermark;
  const rightRowsState = state.right.rows;
  const leftRowsState = state.left.rows;

  // 1. Left rows join the right state as of the start of the step.
  const leftRows = input.leftRows;
  if (leftRows !== undefined) {
    const lateValue = input.leftLateValue;
    const leftTime = range?.leftTime;
    for (let n = 0; n < leftRows.length; n++) {
      const l = leftRows[n]!;
      if (lateValue !== undefined && lateValue(l) <= lateWm) {
        lateLeft.push(l);
        continue;
      }
      if (whereLeft !== undefined && !whereLeft(l)) {
        if (leftPreserved) output.push(emit.row(l, null));
        continue;
      }
      const nullKey = leftKeyIsNull(l);
      if (nullKey && !leftPreserved) continue;
      const key = leftKey(l);
      const lt = leftTime === undefined ? Number.NaN : leftTime.ms(l as never);
      let matched = false;
      if (!nullKey) {
        const candidates = rightRowsState.get(key);
        if (candidates !== undefined) {
          for (let i = 0; i < candidates.length; i++) {
            const e = candidates[i]!;
            if (range !== undefined && !inTimeRange(range, lt, e.t)) continue;
            if (whereBoth !== undefined && !whereBoth(l, e.row)) continue;
            matched = true;
            if (semi) break;
            output.push(emit.row(l, e.row));
            if (rightPreserved && !e.matched) rightScratch.mark(key, i);
          }
        }
      }
      if (semi && matched) {
        output.push(emit.semi(l));
        continue;
      }
      leftScratch.add(key, { row: l, t: lt, evt: evictionTimeOfRow(runtime.left, l), matched });
    }
  }

  // 2. Right rows join the left state, including this step's left rows.
  const rightRows = input.rightRows;
  if (rightRows !== undefined) {
    const lateValue = input.rightLateValue;
    const rightTime = range?.rightTime;
    const markLeft = leftPreserved || semi;
    for (let n = 0; n < rightRows.length; n++) {
      const r = rightRows[n]!;
      if (lateValue !== undefined && lateValue(r) <= lateWm) {
        lateRight.push(r);
        continue;
      }
      if (whereRight !== undefined && !whereRight(r)) {
        if (rightPreserved) output.push(emit.row(null, r));
        continue;
      }
      const nullKey = rightKeyIsNull(r);
      if (nullKey && !rightPreserved) continue;
      const key = rightKey(r);
      const rt = rightTime === undefined ? Number.NaN : rightTime.ms(r as never);
      let matched = false;
      if (!nullKey) {
        const committed = leftRowsState.get(key);
        if (committed !== undefined) {
          for (let i = 0; i < committed.length; i++) {
            const e = committed[i]!;
            if (semi && (e.matched || leftScratch.isMarked(key, i))) continue;
            if (range !== undefined && !inTimeRange(range, e.t, rt)) continue;
            if (whereBoth !== undefined && !whereBoth(e.row, r)) continue;
            matched = true;
            if (semi) {
              leftScratch.mark(key, i);
              output.push(emit.semi(e.row));
              continue;
            }
            output.push(emit.row(e.row, r));
            if (markLeft && !e.matched) leftScratch.mark(key, i);
          }
        }
        const fresh = leftScratch.added.get(key);
        if (fresh !== undefined) {
          for (let i = 0; i < fresh.length; i++) {
            const e = fresh[i]!;
            if (semi && e.matched) continue;
            if (range !== undefined && !inTimeRange(range, e.t, rt)) continue;
            if (whereBoth !== undefined && !whereBoth(e.row, r)) continue;
            matched = true;
            if (semi) output.push(emit.semi(e.row));
            else output.push(emit.row(e.row, r));
            e.matched = true;
          }
        }
      }
      rightScratch.add(key, { row: r, t: rt, evt: evictionTimeOfRow(runtime.right, r), matched });
    }
  }

  // 3. Commit both sides, then evict with the state watermarks.
  const changedKeys: string[] = [];
  const leftStateWatermark = sideStateWatermark(runtime.left.eviction, input.watermark);
  const rightStateWatermark = sideStateWatermark(runtime.right.eviction, input.watermark);
  const left = commitAndEvict(state.left, leftScratch, runtime.left, leftStateWatermark, 'L', changedKeys, leftPreserved ? (e) => (e.matched ? undefined : output.push(emit.row(e.row, null))) : undefined);
  const right = commitAndEvict(state.right, rightScratch, runtime.right, rightStateWatermark, 'R', changedKeys, rightPreserved ? (e) => (e.matched ? undefined : output.push(emit.row(null, e.row))) : undefined);
  changedKeys.push('meta');
  return {
    state: { left: left.side, right: right.side, watermark: input.watermark, outputWatermark: state.outputWatermark },
    output,
    lateLeft,
    lateRight,
    changedKeys,
    numRowsUpdated: left.updated + right.updated,
    numRowsRemoved: left.removed + right.removed,
    leftStateWatermark,
    rightStateWatermark,
  };
}
