import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import type { ResultBatch } from '../lib/batch/ResultBatch.js';
import { aggregationOperator, type GroupingWatermark } from '../lib/aggregate/aggregationOperator.js';
import { UnsupportedOperationError } from '../lib/errors/index.js';
import { columnReader } from '../lib/internal/columns.js';
import { watermarkNamed } from '../lib/internal/pipeline.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import { compileAggregates, type AggregateSpec } from '../lib/aggregate/Aggregator.js';
import type { FixedAggState } from '../lib/aggregate/fixedWindowEngine.js';
import { fixedCodec, fixedRunner } from '../lib/aggregate/fixedRunner.js';
import { compileKey } from '../lib/aggregate/groupKey.js';
import type { RowTypeArgumentOnly, GroupedRow } from '../lib/aggregate/rowTypes.js';
import { aggregationColumns, type AggregationCommonOptions } from '../lib/aggregate/windowAggregation.js';
import { eventTimeReader, invalidEventTimePolicy, sameConversion, toEpochMs } from '../lib/time/eventTime.js';
import type { KeySpec } from '../lib/types.js';

/** Options for {@link groupAggregate}. */
export interface GroupAggregateOptions<T, K extends KeySpec<T> | undefined, S extends AggregateSpec<T>> extends AggregationCommonOptions<T, K, S> {}

/** `groupAggregate` for rows `T`, generic in the key and the aggregates: what `groupAggregate<T>()` returns. */
export interface GroupAggregateFor<T> {
  <const S extends AggregateSpec<T>>(options: GroupAggregateOptions<T, undefined, S> & { readonly keyBy?: undefined }): OperatorFunction<Batch<T>, ResultBatch<GroupedRow<T, undefined, S>, 'group'>>;
  <const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(options: GroupAggregateOptions<T, K, S>): OperatorFunction<Batch<T>, ResultBatch<GroupedRow<T, K, S>, 'group'>>;
}

/**
 * Aggregates rows per key with no time window: running totals per group,
 * emitted as a {@link ResultBatch} of `{ ...keyFields, ...aggregates }` rows.
 * Without `keyBy`, one global row.
 *
 * Spark: `df.groupBy(keys...).agg(...)`.
 *
 * ```text
 * input    a---b---|     a = #0 [open, close, open]  b = #1 [open]
 *          groupAggregate({ keyBy: 'action', aggregate: { count: count() } }), outputMode('complete')
 * output   a---b---|     a = #0 [open 2, close 1]   b = #1 [open 3, close 1]
 * ```
 *
 * When a key column is the watermarked event-time column (a raw timestamp,
 * or a window column made by `assignWindows` from it), the aggregation has a
 * watermark, as in Spark: a row is late when that value (a window's end) is at
 * or before the previous batch's watermark, and a group is finalised (append)
 * or dropped (update) once this batch's watermark reaches it.
 *
 * **State**: one accumulator per key; without a watermarked key it grows
 * with the number of keys, forever.
 *
 * **Output modes**: `update` and `complete` always; `append` only with a
 * watermarked key column.
 *
 * **Types**: the result row type follows `keyBy` and `aggregate`. The row type
 * comes from the source (`source$.pipe(groupAggregate(…))`) or an earlier
 * operator (`pipe(withWatermark<Row>(…), groupAggregate(…))`). Where this
 * operator starts a fragment, fix the row type with `groupAggregate<Row>()`,
 * which returns `groupAggregate` for rows `Row`.
 * `groupAggregate<Row>(options)` does not compile: once a type argument is
 * given TypeScript infers none, and the key and aggregate types would be lost.
 *
 * ```ts
 * type Click = { ts: number; page: string; user: string };
 * const fragment = pipe(groupAggregate<Click>()({ keyBy: 'page', aggregate: { views: count(), users: collectSet('user') } }), outputMode('complete'));
 * // rows: { page: string; views: number; users: string[] }
 * ```
 *
 * @example
 * ```ts
 * fromBatches([[{ action: 'open' }, { action: 'close' }, { action: 'open' }]])
 *   .pipe(groupAggregate({ keyBy: 'action', aggregate: { count: count() } }), outputMode('complete'))
 *   .subscribe((b) => console.log(b.rows));
 * // => [{ action: 'open', count: 2 }, { action: 'close', count: 1 }]
 * ```
 *
 * A `keyBy` function that returns a plain object puts that object's fields in
 * the row (`(r) => ({ user: r.user.toLowerCase() })` gives `user`); any other
 * returned value goes in a `key` field.
 *
 * @param options The key, aggregators and late-data handling.
 * @returns An operator from row batches to {@link ResultBatch}es; follow it with `outputMode`.
 * @throws {ColumnNotFoundError} `groupAggregate: cannot resolve '<col>' given input columns: [...]` when the pipeline is built over a source with a schema, for a `keyBy`, event-time or aggregate field that is not a column; without a schema (as an error notification) `… in batch <n>: no row has it; …`, unless `checkColumns: false`.
 * @throws {InvalidValueError} (as an error notification) when an aggregate gets a value it cannot take, e.g. `sum("flag"): cannot sum true (a boolean) in batch 3. …` (see docs/guides/types-and-schemas.md).
 * @throws {InvalidOptionError} `groupAggregate: aggregate must be a non-empty record of aggregators; got …`
 * @throws {InvalidOptionError} `groupAggregate: aggregate.<name> clashes with a column of the result row; …`
 * @throws {UnsupportedOperationError} (on subscribe, from `outputMode('append')`) `Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark` without a watermarked key.
 * @throws {UserFunctionError} (as an error notification) when `keyBy` or an aggregator throws.
 * @see windowTumbling
 * @see outputMode
 */
export function groupAggregate<T, const S extends AggregateSpec<T>>(
  options: GroupAggregateOptions<T, undefined, S> & { readonly keyBy?: undefined },
): OperatorFunction<Batch<T>, ResultBatch<GroupedRow<T, undefined, S>, 'group'>>;
export function groupAggregate<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  options: GroupAggregateOptions<T, K, S>,
): OperatorFunction<Batch<T>, ResultBatch<GroupedRow<T, K, S>, 'group'>>;
/**
 * `groupAggregate<Row>()` fixes the row type and returns `groupAggregate` for
 * rows `Row`, still generic in the key and the aggregates: use it to start a
 * fragment where no source gives the row type,
 * `pipe(groupAggregate<Row>()({ … }), outputMode(…))`.
 */
export function groupAggregate<T>(): GroupAggregateFor<T>;
/** Refused: `groupAggregate<Row>(options)` would lose the aggregate types; write `groupAggregate<Row>()(options)`. */
export function groupAggregate<T>(options: GroupAggregateOptions<T, KeySpec<T> | undefined, AggregateSpec<T>> & RowTypeArgumentOnly<'groupAggregate'>): never;
export function groupAggregate<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  // Optional only for `groupAggregate<Row>()`; a call with options (or with `undefined`) goes on to validate them.
  options: GroupAggregateOptions<T, K, S> = undefined as never,
): OperatorFunction<Batch<T>, ResultBatch<GroupedRow<T, K, S>, 'group'>> | GroupAggregateFor<T> {
  if (arguments.length === 0) return groupAggregate as GroupAggregateFor<T>;
  const op = 'groupAggregate';
  const key = compileKey<T>(op, options?.keyBy);
  const aggs = compileAggregates<T>(op, options?.aggregate, key.outputFields);
  const invalidPolicy = invalidEventTimePolicy(op, options.onInvalidEventTime);
  return aggregationOperator<T, GroupedRow<T, K, S>, FixedAggState, 'group'>({
    op,
    kind: 'group',
    name: options.name,
    descriptor: { keyBy: key.kind === 'function' ? '<function>' : key.fields, aggregate: aggs.names },
    codec: fixedCodec(aggs, key),
    onLateRows: options.onLateRows,
    invalidPolicy,
    valueCounts: aggs.counts,
    namedColumns: aggregationColumns(key, aggs),
    checkColumns: options.checkColumns,
    // Watermarked when a key column is watermarked (Spark: a grouping expression carrying watermark metadata); two are refused.
    groupingWatermark: (info) => {
      const found: GroupingWatermark[] = [];
      for (const field of key.fields) {
        const column = watermarkNamed(info, field);
        if (column !== undefined) found.push({ name: field, column });
      }
      if (found.length > 1) throw new UnsupportedOperationError(op, `${UNSUPPORTED.multipleEventTimeColumns} event time columns: ${found.map((f) => f.name).join(', ')}`);
      return found[0];
    },
    outputWatermark: (input) => ({ column: input.name, isWindow: input.column.isWindow, delayMs: input.column.delayMs }),
    createRunner: (hasWatermark, marker, restored, checkpointing, mode) => {
      if (!hasWatermark || marker === undefined) return fixedRunner<T, GroupedRow<T, K, S>>({ op, aggs, key, spec: undefined, invalidPolicy }, 'none', { field: undefined, ms: () => 0 }, undefined, restored, checkpointing, mode);
      const field = marker.field;
      const reader = eventTimeReader<T>(op, field as EventTimeSpecOf<T>);
      const read = columnReader(field);
      // A watermark on { field, format } (or a unit): the key column is read through the same conversion.
      const convert = marker.read === undefined ? undefined : sameConversion(marker.read, field);
      const ms = marker.isWindow
        ? (row: T): number => {
            const end = (read(row) as { end?: unknown } | null | undefined)?.end;
            return typeof end === 'number' ? end : Number.NaN;
          }
        : convert !== undefined
          ? convert // the column's converter (unit or format): epoch ms, NaN when not a time
          : (row: T): number => toEpochMs(read(row));
      return fixedRunner<T, GroupedRow<T, K, S>>({ op, aggs, key, spec: undefined, invalidPolicy }, 'eventTime', { field: convert === undefined ? field : undefined, ms }, reader, restored, checkpointing, mode);
    },
  });
}

type EventTimeSpecOf<T> = Parameters<typeof eventTimeReader<T>>[1];
