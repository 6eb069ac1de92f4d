import type { Observable } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import { batchColumnCheck, knownColumnsOf, resolveColumns, type BatchColumnCheck, type NamedColumn } from '../internal/knownColumns.js';
import { infoOfBatch } from '../internal/pipeline.js';
import type { ResolvedJoinCondition } from './JoinCondition.js';

/** The column check of one join input, run on each of its batches (see {@link joinColumnChecks}). */
export type JoinSideCheck = (batch: Batch<unknown>, batchId: number) => void;

/** The column checks of a join's two inputs (`right` is a no-op for a stream-static join: the table is checked when indexed). */
export interface JoinColumnChecks {
  readonly left: JoinSideCheck;
  readonly right: JoinSideCheck;
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
 * One input's check: resolved against the input's known columns (a
 * source's schema) when the pipeline is built, else against the columns its
 * first batch's pipeline info knows, else (`enabled`, i.e. not
 * `checkColumns: false`) a per-batch check that each named field is present
 * in some row of every non-empty batch.
 */
function sideCheck(operator: string, named: readonly NamedColumn[], input: Observable<unknown>, enabled: boolean): JoinSideCheck {
  const known = knownColumnsOf(input);
  resolveColumns(operator, named, known);
  if (known !== undefined || named.length === 0) return () => undefined;
  let check: BatchColumnCheck | undefined;
  let decided = false;
  return (batch, batchId) => {
    if (!decided) {
      decided = true;
      const columns = infoOfBatch(batch).columns;
      resolveColumns(operator, named, columns);
      check = columns === undefined && enabled ? batchColumnCheck(operator, named) : undefined;
    }
    check?.(batch.rows, batchId);
  };
}

/**
 * The column checks of a join (ColumnNotFoundError for a key or time-range
 * field that is not a column): each input resolved now when its columns are
 * known, else when its first batch arrives, else checked per batch.
 * `right$` is `undefined` for a stream-static join.
 */
export function joinColumnChecks(operator: string, cond: ResolvedJoinCondition<unknown, unknown>, left$: Observable<unknown>, right$: Observable<unknown> | undefined): JoinColumnChecks {
  const left = sideCheck(operator, joinSideColumns(cond, 'left'), left$, cond.checkColumns);
  const right = right$ === undefined ? () => undefined : sideCheck(operator, joinSideColumns(cond, 'right'), right$, cond.checkColumns);
  return { left, right };
}
