import type { Observable } from 'rxjs';
import { ColumnNotFoundError } from '../errors/index.js';
import { hasColumn } from './columns.js';
import { staticInfoOf } from './pipeline.js';

/**
 * The columns the rows of a stream are known to have (a source's schema),
 * before any batch flows, or `undefined` when not known. They travel in the
 * pipeline info (lib/internal/pipeline.ts): `startQuery` puts a source's
 * columns there; operators that keep the rows' columns pass them on; a
 * foreign RxJS operator (which may reshape rows) hides them.
 */
export function knownColumnsOf(observable: Observable<unknown>): readonly string[] | undefined {
  return staticInfoOf(observable)?.columns;
}

/** A column an operator names, with the option that names it (for messages). */
export interface NamedColumn {
  readonly option: string;
  readonly column: string;
}

/**
 * Resolves named columns against known ones before any data flows (Spark's
 * analysis): a name that is not a column is a {@link ColumnNotFoundError}.
 * A dotted name (`value.id`) names a field of a struct column: it resolves
 * when it is listed itself (a source that knows the struct's fields lists
 * them as `value.id`, …), or when its head is a column whose fields are not
 * listed (a struct of unknown fields, such as a Kafka value without a schema).
 */
export function resolveColumns(operator: string, named: readonly NamedColumn[], columns: readonly string[] | undefined): void {
  if (columns === undefined) return;
  for (const { option, column } of named) {
    if (!isColumn(column, columns)) throw new ColumnNotFoundError(operator, option, column, columns);
  }
}

function isColumn(column: string, columns: readonly string[]): boolean {
  if (columns.includes(column)) return true;
  const dot = column.indexOf('.');
  if (dot <= 0 || dot >= column.length - 1) return false;
  const head = column.slice(0, dot);
  return columns.includes(head) && !columns.some((c) => c.startsWith(`${head}.`));
}

/** A per-batch column check (see {@link batchColumnCheck}). */
export type BatchColumnCheck = (rows: readonly unknown[], batchId: number | undefined) => void;

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
