import type { Observable } from 'rxjs';
import { columnChecks, knownColumnsOf, type BatchColumnCheck, type NamedColumn } from '../internal/knownColumns.js';
import type { ResolvedJoinCondition } from './JoinCondition.js';

/** The per-batch column checks of a join's two sides (`undefined` for a side whose columns are known, or with `checkColumns: false`). */
export interface JoinColumnChecks {
  readonly left: BatchColumnCheck | undefined;
  readonly right: BatchColumnCheck | undefined;
}

/** The columns one side of a join names: its key fields and its time-range column. */
export function joinSideColumns(cond: ResolvedJoinCondition<unknown, unknown>, side: 'left' | 'right'): NamedColumn[] {
  const fields = side === 'left' ? cond.leftKeyFields : cond.rightKeyFields;
  const named: NamedColumn[] = (fields ?? []).map((column) => ({ option: `on (${side})`, column }));
  const time = side === 'left' ? cond.range?.leftTime : cond.range?.rightTime;
  if (time !== undefined && time.isField) named.push({ option: `timeRange.${side}Time`, column: time.field });
  return named;
}

/**
 * Resolves the columns a join names against each input's known columns (a
 * source's schema) when the pipeline is built, throwing a
 * `ColumnNotFoundError` for one that is not a column, and returns the
 * per-batch checks for the inputs whose columns are not known. `right$` is
 * `undefined` for a stream-static join (the table is checked when it is
 * indexed, see `indexStaticTable`).
 */
export function joinColumnChecks(operator: string, cond: ResolvedJoinCondition<unknown, unknown>, left$: Observable<unknown>, right$: Observable<unknown> | undefined): JoinColumnChecks {
  const left = columnChecks(operator, joinSideColumns(cond, 'left'), knownColumnsOf(left$), cond.checkColumns);
  const right = right$ === undefined ? undefined : columnChecks(operator, joinSideColumns(cond, 'right'), knownColumnsOf(right$), cond.checkColumns);
  return { left, right };
}
