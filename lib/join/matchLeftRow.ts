import { type ResolvedJoinCondition, type ResolvedTimeRange } from './JoinCondition.js';
import type { JoinEmitter } from './joinStep.js';

/** A right-side row a left row is probed against: the row, its range time, and (for a buffered row) its `matched` flag. */
export interface RightCandidate<TRight> {
  readonly row: TRight;
  readonly t: number;
  matched?: boolean;
}

/**
 * Joins one left row (range time `lt`) with the right rows sharing its key,
 * as both the stream-stream step and the stream-static step do: a candidate
 * matches when it is within the time range and passes `where.both`; every
 * match is emitted as a pair, except for a left-semi join, which stops at the
 * first match and emits nothing here (the caller emits the semi row).
 * Candidates matched for the first time have their `matched` flag set and are
 * appended to `marked` when it is given (a preserved right side).
 *
 * @returns `true` when at least one candidate matched.
 */
export function matchLeftRow<TLeft, TRight, O, E extends RightCandidate<TRight>>(
  cond: ResolvedJoinCondition<TLeft, TRight>,
  emit: JoinEmitter<TLeft, TRight, O>,
  left: TLeft,
  lt: number,
  candidates: readonly E[],
  output: O[],
  marked: E[] | undefined,
): boolean {
  const range = cond.range as ResolvedTimeRange<unknown, unknown> | undefined;
  const whereBoth = cond.whereBoth;
  const semi = cond.semi;
  let matched = false;
  // inTimeRange(range, lt, e.t) with the bounds computed once: lt + lower <= e.t <= lt + upper (a missing bound is infinite).
  const ranged = range !== undefined && (range.lowerMs !== undefined || range.upperMs !== undefined);
  const lo = ranged ? lt + (range.lowerMs ?? Number.NEGATIVE_INFINITY) : 0;
  const hi = ranged ? lt + (range.upperMs ?? Number.POSITIVE_INFINITY) : 0;
  const lowerInclusive = range?.lowerInclusive ?? true;
  const upperInclusive = range?.upperInclusive ?? true;
  for (let i = 0; i < candidates.length; i++) {
    const e = candidates[i]!;
    if (ranged) {
      const t = e.t;
      if (lowerInclusive ? !(t >= lo) : !(t > lo)) continue;
      if (upperInclusive ? !(t <= hi) : !(t < hi)) continue;
    }
    if (whereBoth !== undefined && !whereBoth(left, e.row)) continue;
    matched = true;
    if (semi) break;
    output.push(emit.row(left, e.row));
    if (marked !== undefined && !e.matched) {
      e.matched = true;
      marked.push(e);
    }
  }
  return matched;
}
