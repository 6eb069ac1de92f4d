import type { Observable } from 'rxjs';
import { ColumnNotFoundError } from '../errors/index.js';
import { hasColumn } from './columns.js';

const COLUMNS = Symbol.for('rxjs-structured-streaming.columns');

/**
 * The columns the rows of a stream are known to have (a source's schema),
 * attached to the Observable an operator is applied to, or `undefined` when
 * not known. `startQuery` attaches a source's columns to the input stream;
 * operators that keep the rows' columns (`withWatermark`, `dropDuplicates`,
 * `filterRows`) pass them on.
 */
export function knownColumnsOf(observable: Observable<unknown>): readonly string[] | undefined {
  return (observable as unknown as { [COLUMNS]?: readonly string[] })[COLUMNS];
}

/** Attaches known columns to an Observable (none when `columns` is `undefined`); returns the same Observable. */
export function withKnownColumns<O extends Observable<unknown>>(observable: O, columns: readonly string[] | undefined): O {
  if (columns !== undefined) Object.defineProperty(observable, COLUMNS, { value: Object.freeze([...columns]), enumerable: false, configurable: true });
  return observable;
}

/** A column an operator names, with the option that names it (for messages). */
export interface NamedColumn {
  readonly option: string;
  readonly column: string;
}

/**
 * Resolves named columns against known ones before any data flows (Spark's
 * analysis): a name that is not a column is a {@link ColumnNotFoundError}.
 */
export function resolveColumns(operator: string, named: readonly NamedColumn[], columns: readonly string[] | undefined): void {
  if (columns === undefined) return;
  for (const { option, column } of named) {
    if (!columns.includes(column)) throw new ColumnNotFoundError(operator, option, column, columns);
  }
}

/** A per-batch column check (see {@link batchColumnCheck}). */
export type BatchColumnCheck = (rows: readonly unknown[], batchId: number | undefined) => void;

/**
 * The column checks of an operator naming `named` columns of a stream whose
 * columns are `known` (or not known, `undefined`): resolves them now against
 * known columns (throwing a {@link ColumnNotFoundError}), and otherwise
 * returns the per-batch check of {@link batchColumnCheck}, unless `enabled`
 * is `false` (the operator's `checkColumns: false`, for sparse data).
 */
export function columnChecks(operator: string, named: readonly NamedColumn[], known: readonly string[] | undefined, enabled: boolean | undefined): BatchColumnCheck | undefined {
  resolveColumns(operator, named, known);
  return known === undefined && enabled !== false ? batchColumnCheck(operator, named) : undefined;
}

/**
 * Builds the per-batch check used when the columns are not known: a named
 * field that no row of a non-empty batch has is a {@link ColumnNotFoundError}
 * naming the field, the batch and the columns present. The cost is one
 * own-property test per named field when the first row has it. A
 * `batchId` of `undefined` checks rows that are not a batch (a static table).
 */
export function batchColumnCheck(operator: string, named: readonly NamedColumn[]): BatchColumnCheck | undefined {
  if (named.length === 0) return undefined;
  return (rows, batchId) => {
    if (rows.length === 0) return;
    const first = rows[0];
    for (let i = 0; i < named.length; i++) {
      const { column, option } = named[i]!;
      if (hasColumn(first, column)) continue;
      let found = false;
      for (let r = 1; r < rows.length && !found; r++) found = hasColumn(rows[r], column);
      if (!found) throw new ColumnNotFoundError(operator, option, column, presentColumns(rows), batchId);
    }
  };
}

function presentColumns(rows: readonly unknown[]): string[] {
  const seen = new Set<string>();
  for (let r = 0; r < rows.length && r < 100; r++) {
    const row = rows[r];
    if (typeof row === 'object' && row !== null) for (const k of Object.keys(row)) seen.add(k);
  }
  return [...seen];
}
