import type { Map as IMap } from 'immutable';
import type { StableKey } from '../internal/keySpec.js';
import { checkKeyKinds, rangeTimeOf, type ResolvedJoinCondition, type ResolvedTimeRange } from './JoinCondition.js';
import { normaliseEvictionTime, segmentMaxEvictionTime, segmentOf, type JoinSideBuffer, type LiveEntry } from './JoinSideBuffer.js';
import { segmentKey, type JoinSegment, type JoinSideState, type JoinState } from './JoinState.js';
import { matchLeftRow } from './matchLeftRow.js';
import { sideStateWatermark, type SideEviction } from './stateWatermarks.js';

/** How one side of a running join evicts, with its live buffer (mutable, per subscription). */
export interface JoinSideRuntime<T> {
  readonly eviction: SideEviction | undefined;
  /** Reads a row's eviction time; `undefined` when the side is never evicted. */
  readonly evictionTime: ((row: T) => number) | undefined;
  readonly buffer: JoinSideBuffer<T>;
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
  /** The micro-batch id; it names the segments this step buffers. */
  readonly stepId: number;
  /** The left rows of this step (`undefined` when the left sent nothing). */
  readonly leftRows: readonly TLeft[] | undefined;
  readonly rightRows: readonly TRight[] | undefined;
  /** Reads the value compared with the late-events watermark, per side; `undefined` when that side has no watermarked column. */
  readonly leftLateValue: ((row: TLeft) => number) | undefined;
  readonly rightLateValue: ((row: TRight) => number) | undefined;
  /** The previous step's global watermark: rows at or below it are late. */
  readonly lateWatermark: number;
  /** This step's global watermark: state is evicted with it. */
  readonly watermark: number;
  /**
   * Keep the Immutable state (the buffered segments a checkpoint stores) up
   * to date. Without a checkpoint nothing reads it: the live buffers are the
   * state, and only each side's `evictedUpTo` and the watermarks move.
   */
  readonly trackState: boolean;
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

/**
 * Writes a side's step into its Immutable state: the new segment, the
 * `matched` flags set on older segments' rows, and the removal of segments
 * whose every row is evicted. One Immutable update per touched segment.
 */
function commitSide<T>(
  side: JoinSideState<T>,
  buffer: JoinSideBuffer<T>,
  stepId: number,
  added: readonly LiveEntry<T>[],
  marked: readonly LiveEntry<T>[],
  stateWatermark: number | undefined,
  prefix: 'L' | 'R',
  changed: string[],
  recordMatched: boolean,
): JoinSideState<T> {
  const evictedUpTo = stateWatermark ?? side.evictedUpTo;
  const maxEvictionTime = added.length > 0 ? segmentMaxEvictionTime(added, buffer.ordered) : Number.NaN;
  if (added.length > 0) buffer.fileSegment(stepId, maxEvictionTime);
  const due = stateWatermark === undefined ? undefined : buffer.dueSegments(stateWatermark);
  if (added.length === 0 && marked.length === 0 && (due === undefined || due.length === 0)) return evictedUpTo === side.evictedUpTo ? side : { segments: side.segments, evictedUpTo };
  const segments = side.segments.withMutations((m: IMap<number, JoinSegment<T>>) => {
    if (added.length > 0) {
      m.set(stepId, segmentOf(added, maxEvictionTime, recordMatched));
      changed.push(segmentKey(prefix, stepId));
    }
    if (marked.length > 0) {
      const bySegment = new Map<number, number[]>();
      for (let i = 0; i < marked.length; i++) {
        const e = marked[i]!;
        const list = bySegment.get(e.seg);
        if (list === undefined) bySegment.set(e.seg, [e.idx]);
        else list.push(e.idx);
      }
      for (const [id, idxs] of bySegment) {
        const segment = m.get(id);
        if (segment === undefined) continue;
        m.set(id, { rows: segment.rows, matched: segment.matched.union(idxs), maxEvictionTime: segment.maxEvictionTime });
        changed.push(segmentKey(prefix, id));
      }
    }
    if (due !== undefined) {
      for (let i = 0; i < due.length; i++) {
        if (!m.has(due[i]!)) continue;
        m.delete(due[i]!);
        changed.push(segmentKey(prefix, due[i]!));
      }
    }
  });
  return { segments, evictedUpTo };
}

/** A side's state when the segments are not kept ({@link JoinStepInput.trackState}): only how far it was evicted moves. */
function untrackedSide<T>(side: JoinSideState<T>, stateWatermark: number | undefined): JoinSideState<T> {
  return stateWatermark === undefined || stateWatermark === side.evictedUpTo ? side : { segments: side.segments, evictedUpTo: stateWatermark };
}

/** What both probe loops of one step read and write (built once per step). */
interface ProbeContext<TLeft, TRight, O> {
  readonly cond: ResolvedJoinCondition<TLeft, TRight>;
  readonly emit: JoinEmitter<TLeft, TRight, O>;
  readonly input: JoinStepInput<TLeft, TRight>;
  readonly leftBuffer: JoinSideBuffer<TLeft>;
  readonly rightBuffer: JoinSideBuffer<TRight>;
  readonly leftEvictionTime: ((row: TLeft) => number) | undefined;
  readonly rightEvictionTime: ((row: TRight) => number) | undefined;
  readonly output: O[];
  readonly lateLeft: TLeft[];
  readonly lateRight: TRight[];
  readonly leftAdded: LiveEntry<TLeft>[];
  readonly rightAdded: LiveEntry<TRight>[];
  readonly leftMarked: LiveEntry<TLeft>[];
  readonly rightMarked: LiveEntry<TRight>[];
}

/**
 * Step 1: the left rows join the right rows buffered before this step, then
 * are buffered. The loop has a function of its own with nothing after it:
 * its optimised code, entered mid-loop on the first steps and again on each
 * later one, then never deoptimises at the loop's exit (code after a hot loop
 * that had not run when the loop was optimised would do so on every step).
 */
function probeLeft<TLeft, TRight, O>(ctx: ProbeContext<TLeft, TRight, O>, leftRows: readonly TLeft[]): void {
  const { cond, emit, input, leftBuffer, rightBuffer, leftEvictionTime, output, lateLeft, leftAdded, rightMarked } = ctx;
  const range = cond.range as ResolvedTimeRange<unknown, unknown> | undefined;
  const { whereLeft, whereBoth, leftPreserved, rightPreserved, semi, leftKey, leftKeyIsNull, leftNullKey } = cond;
  // The range check, inlined: a missing bound is infinite (a range has at least one bound).
  const ranged = range !== undefined && (range.lowerMs !== undefined || range.upperMs !== undefined);
  const lowerMs = range?.lowerMs ?? Number.NEGATIVE_INFINITY;
  const upperMs = range?.upperMs ?? Number.POSITIVE_INFINITY;
  const lowerInclusive = range?.lowerInclusive ?? true;
  const upperInclusive = range?.upperInclusive ?? true;
  const stepId = input.stepId;
  const lateWm = input.lateWatermark;
  // The first row with a key of each side and step has its key's types checked against the other side's (checkKeyKinds).
  let leftSampled = false;
  const lateValue = input.leftLateValue;
  const leftTime = cond.range?.leftTime;
  const rightByKey = rightBuffer.byKey;
  const markRightInto = rightPreserved ? rightMarked : undefined;
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
    // A single-field or function key is null exactly when the key is the null key: computed once.
    let key: StableKey | undefined;
    let nullKey: boolean;
    if (leftNullKey !== undefined) {
      key = leftKey(l);
      nullKey = key === leftNullKey;
    } else nullKey = leftKeyIsNull(l);
    if (nullKey && !leftPreserved) continue;
    if (!nullKey && !leftSampled) {
      checkKeyKinds(cond, 'left', l, leftBuffer, rightBuffer.keySample, stepId);
      leftSampled = true;
    }
    if (key === undefined) key = leftKey(l);
    let lt = leftTime === undefined ? Number.NaN : leftTime.ms(l);
    if (lt !== lt && leftTime !== undefined) lt = rangeTimeOf(leftTime, 'timeRange.leftTime', l, stepId, n); // null: NaN; not a time: EventTimeError
    let matched = false;
    if (!nullKey) {
      const candidates = rightByKey.get(key);
      if (candidates !== undefined) {
        if (semi || whereBoth !== undefined || !ranged) matched = matchLeftRow(cond, emit, l, lt, candidates, output, markRightInto);
        else {
          // matchLeftRow inlined for the common range-only condition: lt + lower <= e.t <= lt + upper.
          const lo = lt + lowerMs;
          const hi = lt + upperMs;
          for (let i = 0; i < candidates.length; i++) {
            const e = candidates[i]!;
            const t = e.t;
            if (lowerInclusive ? !(t >= lo) : !(t > lo)) continue;
            if (upperInclusive ? !(t <= hi) : !(t < hi)) continue;
            matched = true;
            output.push(emit.row(l, e.row));
            if (markRightInto !== undefined && !e.matched) {
              e.matched = true;
              markRightInto.push(e);
            }
          }
        }
      }
    }
    if (semi && matched) {
      output.push(emit.semi(l));
      continue;
    }
    const entry: LiveEntry<TLeft> = { row: l, t: lt, evt: leftEvictionTime === undefined ? Number.NaN : normaliseEvictionTime(leftEvictionTime(l)), matched, seg: stepId, idx: leftAdded.length };
    leftAdded.push(entry);
    leftBuffer.insert(key, entry);
  }
}

/** Step 2: the right rows join the buffered left rows, this step's included, then are buffered (see {@link probeLeft}). */
function probeRight<TLeft, TRight, O>(ctx: ProbeContext<TLeft, TRight, O>, rightRows: readonly TRight[]): void {
  const { cond, emit, input, leftBuffer, rightBuffer, rightEvictionTime, output, lateRight, rightAdded, leftMarked } = ctx;
  const range = cond.range as ResolvedTimeRange<unknown, unknown> | undefined;
  const { whereRight, whereBoth, leftPreserved, rightPreserved, semi, rightKey, rightKeyIsNull, rightNullKey } = cond;
  // The range check, inlined: a missing bound is infinite (a range has at least one bound).
  const ranged = range !== undefined && (range.lowerMs !== undefined || range.upperMs !== undefined);
  const lowerMs = range?.lowerMs ?? Number.NEGATIVE_INFINITY;
  const upperMs = range?.upperMs ?? Number.POSITIVE_INFINITY;
  const lowerInclusive = range?.lowerInclusive ?? true;
  const upperInclusive = range?.upperInclusive ?? true;
  const stepId = input.stepId;
  const lateWm = input.lateWatermark;
  let rightSampled = false;
  const lateValue = input.rightLateValue;
  const rightTime = cond.range?.rightTime;
  const leftByKey = leftBuffer.byKey;
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
    let key: StableKey | undefined;
    let nullKey: boolean;
    if (rightNullKey !== undefined) {
      key = rightKey(r);
      nullKey = key === rightNullKey;
    } else nullKey = rightKeyIsNull(r);
    if (nullKey && !rightPreserved) continue;
    if (!nullKey && !rightSampled) {
      checkKeyKinds(cond, 'right', r, rightBuffer, leftBuffer.keySample, stepId);
      rightSampled = true;
    }
    if (key === undefined) key = rightKey(r);
    let rt = rightTime === undefined ? Number.NaN : rightTime.ms(r);
    if (rt !== rt && rightTime !== undefined) rt = rangeTimeOf(rightTime, 'timeRange.rightTime', r, stepId, n); // null: NaN; not a time: EventTimeError
    let matched = false;
    if (!nullKey) {
      const candidates = leftByKey.get(key);
      if (candidates !== undefined) {
        for (let i = 0; i < candidates.length; i++) {
          const e = candidates[i]!;
          if (semi && e.matched) continue;
          if (ranged) {
            // inTimeRange(range, e.t, rt): e.t + lower <= rt <= e.t + upper.
            const lo = e.t + lowerMs;
            if (lowerInclusive ? !(rt >= lo) : !(rt > lo)) continue;
            const hi = e.t + upperMs;
            if (upperInclusive ? !(rt <= hi) : !(rt < hi)) continue;
          }
          if (whereBoth !== undefined && !whereBoth(e.row, r)) continue;
          matched = true;
          output.push(semi ? emit.semi(e.row) : emit.row(e.row, r));
          if (markLeft && !e.matched) {
            e.matched = true;
            if (e.seg !== stepId) leftMarked.push(e);
          }
        }
      }
    }
    const entry: LiveEntry<TRight> = { row: r, t: rt, evt: rightEvictionTime === undefined ? Number.NaN : normaliseEvictionTime(rightEvictionTime(r)), matched, seg: stepId, idx: rightAdded.length };
    rightAdded.push(entry);
    rightBuffer.insert(key, entry);
  }
}

/**
 * One micro-batch of a stream-stream join (Spark's
 * `StreamingSymmetricHashJoinExec.processPartitions`): the left rows join the
 * buffered right rows, then the right rows join the buffered left rows
 * (including this step's), both sides are buffered, and finally each side
 * evicts what its state watermark says can no longer match, emitting
 * null-padded rows for the unmatched rows of preserved sides.
 *
 * Returns a new Immutable state (the previous one is untouched); the live
 * buffers in `runtime` are updated in place.
 */
export function joinStep<TLeft, TRight, O>(
  cond: ResolvedJoinCondition<TLeft, TRight>,
  emit: JoinEmitter<TLeft, TRight, O>,
  runtime: { readonly left: JoinSideRuntime<TLeft>; readonly right: JoinSideRuntime<TRight> },
  state: JoinState<TLeft, TRight>,
  input: JoinStepInput<TLeft, TRight>,
): JoinStepResult<TLeft, TRight, O> {
  const output: O[] = [];
  const lateLeft: TLeft[] = [];
  const lateRight: TRight[] = [];
  const { leftPreserved, rightPreserved, semi } = cond;
  const stepId = input.stepId;
  const leftBuffer = runtime.left.buffer;
  const rightBuffer = runtime.right.buffer;
  const leftAdded: LiveEntry<TLeft>[] = [];
  const rightAdded: LiveEntry<TRight>[] = [];
  const leftMarked: LiveEntry<TLeft>[] = [];
  const rightMarked: LiveEntry<TRight>[] = [];
  const ctx: ProbeContext<TLeft, TRight, O> = {
    cond,
    emit,
    input,
    leftBuffer,
    rightBuffer,
    leftEvictionTime: runtime.left.evictionTime,
    rightEvictionTime: runtime.right.evictionTime,
    output,
    lateLeft,
    lateRight,
    leftAdded,
    rightAdded,
    leftMarked,
    rightMarked,
  };
  if (input.leftRows !== undefined) probeLeft(ctx, input.leftRows);
  if (input.rightRows !== undefined) probeRight(ctx, input.rightRows);

  // 3. Evict with the state watermarks, then commit both sides to the Immutable state.
  const leftStateWatermark = sideStateWatermark(runtime.left.eviction, input.watermark);
  const rightStateWatermark = sideStateWatermark(runtime.right.eviction, input.watermark);
  let removed = 0;
  if (leftStateWatermark !== undefined) {
    removed += leftBuffer.evict(leftStateWatermark, leftPreserved ? (e) => (e.matched ? undefined : output.push(emit.row(e.row, null))) : undefined);
  }
  if (rightStateWatermark !== undefined) {
    removed += rightBuffer.evict(rightStateWatermark, rightPreserved ? (e) => (e.matched ? undefined : output.push(emit.row(null, e.row))) : undefined);
  }
  const changedKeys: string[] = [];
  // An inner join never reads a row's matched flag (only outer and semi joins do, and a checkpoint is never restored as another join type): its segments record none.
  const recordMatched = leftPreserved || rightPreserved || semi;
  const left = input.trackState ? commitSide(state.left, leftBuffer, stepId, leftAdded, leftMarked, leftStateWatermark, 'L', changedKeys, recordMatched) : untrackedSide(state.left, leftStateWatermark);
  const right = input.trackState ? commitSide(state.right, rightBuffer, stepId, rightAdded, rightMarked, rightStateWatermark, 'R', changedKeys, recordMatched) : untrackedSide(state.right, rightStateWatermark);
  changedKeys.push('meta');
  return {
    state: { left, right, watermark: input.watermark, outputWatermark: state.outputWatermark },
    output,
    lateLeft,
    lateRight,
    changedKeys,
    numRowsUpdated: leftAdded.length + rightAdded.length + leftMarked.length + rightMarked.length,
    numRowsRemoved: removed,
    leftStateWatermark,
    rightStateWatermark,
  };
}
