import { isCollection } from 'immutable';
import { batchColumnCheck } from '../internal/knownColumns.js';
import type { StableKey } from '../internal/keySpec.js';
import { joinSideColumns } from './joinColumns.js';
import { checkKeyKinds, rangeTimeOf, type KeySample, type ResolvedJoinCondition } from './JoinCondition.js';
import type { JoinEmitter } from './joinStep.js';
import { matchLeftRow } from './matchLeftRow.js';

/** A static table as a stream-static join accepts it: an array or any Immutable collection (its values are the rows). */
export type StaticRows<R> = readonly R[] | { readonly valueSeq: () => { toArray(): R[] } };

/** A static table indexed by join key (rows with a null key and rows failing `where.right` left out). */
export interface StaticTableIndex<R> {
  readonly byKey: ReadonlyMap<StableKey, readonly { readonly row: R; readonly t: number }[]>;
  readonly size: number;
  /** The kinds of key value the table holds (see `checkKeyKinds`). */
  readonly keySample: KeySample | undefined;
}

/** `true` for an array or an Immutable collection. */
export function isStaticRows(value: unknown): value is StaticRows<unknown> {
  return Array.isArray(value) || isCollection(value);
}

/** The rows of a static table. */
export function staticRowsOf<R>(table: StaticRows<R>): readonly R[] {
  return Array.isArray(table) ? (table as readonly R[]) : (table as { valueSeq: () => { toArray(): R[] } }).valueSeq().toArray();
}

/**
 * Indexes a static table by the right side's join key, once per table
 * version. Unless `checkColumns` is off, a key or time-range field that no
 * row of a non-empty table has is a `ColumnNotFoundError` naming the columns
 * the table has.
 */
export function indexStaticTable<TLeft, TRight>(cond: ResolvedJoinCondition<TLeft, TRight>, rows: readonly TRight[], operator = 'streamJoin'): StaticTableIndex<TRight> {
  if (cond.checkColumns) batchColumnCheck(operator, joinSideColumns(cond as ResolvedJoinCondition<unknown, unknown>, 'right'))?.(rows, undefined);
  const byKey = new Map<StableKey, { row: TRight; t: number }[]>();
  const rightTime = cond.range?.rightTime;
  const sampled: { keySample: KeySample | undefined } = { keySample: undefined };
  let size = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (cond.whereRight !== undefined && !cond.whereRight(r)) continue;
    if (cond.rightKeyIsNull(r)) continue;
    checkKeyKinds(cond, 'right', r, sampled, undefined, undefined); // every row of a table: its key column has one type
    const key = cond.rightKey(r);
    const entry = { row: r, t: rightTime === undefined ? Number.NaN : rangeTimeOf(rightTime, 'timeRange.rightTime', r, -1, i, true) };
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [entry]);
    else list.push(entry);
    size++;
  }
  return { byKey, size, keySample: sampled.keySample };
}

/**
 * Joins one batch of stream rows (the left side) with a static table: every
 * row against the whole table as it is now, nothing buffered (Spark's
 * stream-static join). Inner, left outer and left semi. `batchId` names the
 * batch in an `EventTimeError` for a range time that is not a time.
 */
export function staticJoinStep<TLeft, TRight, O>(cond: ResolvedJoinCondition<TLeft, TRight>, emit: JoinEmitter<TLeft, TRight, O>, table: StaticTableIndex<TRight>, rows: readonly TLeft[], batchId = -1): O[] {
  const output: O[] = [];
  const leftTime = cond.range?.leftTime;
  const { whereLeft, leftPreserved, semi } = cond;
  // The first row with a key has its key's types checked against the table's (checkKeyKinds).
  let sampled = false;
  for (let n = 0; n < rows.length; n++) {
    const l = rows[n]!;
    if ((whereLeft !== undefined && !whereLeft(l)) || cond.leftKeyIsNull(l)) {
      if (leftPreserved) output.push(emit.row(l, null));
      continue;
    }
    if (!sampled) {
      checkKeyKinds(cond, 'left', l, { keySample: undefined }, table.keySample, batchId);
      sampled = true;
    }
    const candidates = table.byKey.get(cond.leftKey(l));
    const lt = leftTime === undefined ? Number.NaN : rangeTimeOf(leftTime, 'timeRange.leftTime', l, batchId, n);
    const matched = candidates !== undefined && matchLeftRow(cond, emit, l, lt, candidates, output, undefined);
    if (semi) {
      if (matched) output.push(emit.semi(l));
    } else if (!matched && leftPreserved) output.push(emit.row(l, null));
  }
  return output;
}
