import type { EventTimeMarker } from '../batch/Batch.js';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import type { ResolvedJoinCondition } from './JoinCondition.js';
import type { JoinEmitter } from './joinStep.js';

/** The operator name joins report in messages. */
export const JOIN_OP = 'streamJoin';

/** The output-row builder of a join: the user's `select`, else `{ left, right }` rows (the left row itself for a left semi join). */
export function emitterOf<TLeft, TRight, O>(select: unknown): JoinEmitter<TLeft, TRight, O> {
  if (select !== undefined && typeof select !== 'function') {
    throw new InvalidOptionError(`${JOIN_OP}: select must be a function (left, right) => row; got ${describeValue(select)}.`, 'select', select, 'a function');
  }
  if (typeof select === 'function') {
    const fn = select as (l: TLeft | null, r: TRight | null) => O;
    return { row: fn, semi: (l) => fn(l, null) };
  }
  return { row: (left, right) => ({ left, right }) as O, semi: (l) => l as unknown as O };
}
/** Reads a marked column's raw value from a row. */
function rawReader(marker: EventTimeMarker): (row: unknown) => unknown {
  if (marker.read !== undefined) return marker.read as (row: unknown) => unknown;
  const field = marker.field;
  return (row) => (row as Record<string, unknown> | null | undefined)?.[field];
}

/**
 * The event-time marker of `{ left, right }` output rows: the left side's
 * column read from `left` (the right side's from `right` when `left` is
 * `null`), so that a downstream stateful operator finds the watermarked time.
 */
function pairMarker(left: EventTimeMarker | undefined, right: EventTimeMarker | undefined): EventTimeMarker | undefined {
  const main = left ?? right;
  if (main === undefined) return undefined;
  const readLeft = left === undefined ? undefined : rawReader(left);
  const readRight = right === undefined ? undefined : rawReader(right);
  const read = (row: { left?: unknown; right?: unknown }): unknown =>
    row.left !== null && row.left !== undefined && readLeft !== undefined ? readLeft(row.left) : row.right !== null && row.right !== undefined && readRight !== undefined ? readRight(row.right) : undefined;
  return { field: main.field === '<function>' ? '<function>' : `left.${main.field}`, isWindow: main.isWindow, delayMs: main.delayMs, read: read as (row: never) => unknown };
}

/** The event-time marker of a join's output batches: none after a `select` (its rows have no known event-time column), the left one for a left semi join, else the pair marker. */
export function outputMarker(cond: ResolvedJoinCondition<unknown, unknown>, hasSelect: boolean, left: EventTimeMarker | undefined, right: EventTimeMarker | undefined): EventTimeMarker | undefined {
  if (hasSelect) return undefined;
  if (cond.semi) return left;
  return pairMarker(left, right);
}

