import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import type { ResultBatch } from '../lib/batch/ResultBatch.js';
import type { AggregateSpec } from '../lib/aggregate/Aggregator.js';
import type { RowTypeArgumentOnly, WindowedRow } from '../lib/aggregate/rowTypes.js';
import { windowAggregation, type AggregationCommonOptions } from '../lib/aggregate/windowAggregation.js';
import { windowSpec } from '../lib/window/WindowBounds.js';
import type { Duration, EventTimeSpec, KeySpec } from '../lib/types.js';

/** Options for {@link windowTumbling}. */
export interface WindowTumblingOptions<T, K extends KeySpec<T> | undefined, S extends AggregateSpec<T>> extends AggregationCommonOptions<T, K, S> {
  /** The event-time column (epoch ms, `Date`, ISO-8601 string, or a window struct), or a function of the row. */
  readonly eventTime: EventTimeSpec<T>;
  /** Window length; no months or years. */
  readonly size: Duration;
  /** Offset of the window grid from the epoch (Spark's `startTime`), `|startTime| < size`. @defaultValue `0` */
  readonly startTime?: Duration;
}

/** `windowTumbling` for rows `T`, generic in the key and the aggregates: what `windowTumbling<T>()` returns. */
export interface WindowTumblingFor<T> {
  <const S extends AggregateSpec<T>>(options: WindowTumblingOptions<T, undefined, S> & { readonly keyBy?: undefined }): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, undefined, S>, 'window'>>;
  <const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(options: WindowTumblingOptions<T, K, S>): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'window'>>;
}

/**
 * Aggregates rows per tumbling event-time window `[start, start + size)` and
 * key, emitting a {@link ResultBatch} of `{ window: { start, end },
 * ...keyFields, ...aggregates }` rows for `outputMode` to pick from.
 *
 * Spark: `df.groupBy(window(col("ts"), size, size, startTime), keys...).agg(...)`.
 *
 * ```text
 * input    a---b---c---|     a = #0 [ts 10s, 11s]  b = #1 [ts 25s]  c = #2 [ts 12s]   (withWatermark('ts', '10 seconds'))
 *          windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }), outputMode('append')
 * output   a---b---c---|     a = #0 [] wm 1s   b = #1 [[10s,15s) n 2] wm 15s   c = #2 [] (12s is late: [10s,15s) ended at 15s <= 15s)
 * ```
 *
 * Window bounds are Spark's: the start is `ts - floorMod(ts - startTime, size)`,
 * so timestamps before 1970 fall in the window that contains them. A
 * timestamp equal to a window's end belongs to the next window.
 *
 * **State**: one accumulator set per open window and key, folded in place in
 * plain maps nested by window; an Immutable snapshot (what checkpoints store
 * and `ResultBatch.table` reads) is updated once per written window and key
 * when one is needed, with copy-on-write. Eviction removes whole windows,
 * visiting only those that end. Without a watermark on `eventTime` it grows
 * forever, as in Spark.
 *
 * **Late data**: with `withWatermark` on `eventTime` upstream, a row is late
 * when its window ends at or before the previous batch's watermark; it is
 * dropped, counted in `numRowsDroppedByWatermark` and handed to `onLateRows`.
 * A window is evicted once this batch's watermark reaches its end.
 *
 * **Output modes**: `append` emits each window once, when the watermark
 * passes its end (needs the watermark); `update` emits the windows changed by
 * the batch; `complete` emits the whole table every batch and then neither
 * drops late rows nor evicts (as Spark).
 *
 * **Types**: the result row type follows `keyBy` and `aggregate`. The row type
 * comes from the source (`source$.pipe(windowTumbling(…))`) or an earlier
 * operator (`pipe(withWatermark<Row>(…), windowTumbling(…))`). Where this
 * operator starts a fragment, fix the row type with `windowTumbling<Row>()`,
 * which returns `windowTumbling` for rows `Row`.
 * `windowTumbling<Row>(options)` does not compile: once a type argument is
 * given TypeScript infers none, and the key and aggregate types would be lost.
 *
 * ```ts
 * type Click = { ts: number; page: string; user: string };
 * const fragment = pipe(windowTumbling<Click>()({ eventTime: 'ts', size: '1 minute', keyBy: 'page', aggregate: { views: count(), last: max('ts') } }), outputMode('append'));
 * // rows: { window: WindowBounds; page: string; views: number; last: number | null }
 * ```
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 10_000, k: 'a' }, { ts: 11_000, k: 'a' }], [{ ts: 25_000, k: 'b' }]])
 *   .pipe(withWatermark('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }), outputMode('append'))
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 []
 * // => 1 [{ window: { start: 10000, end: 15000 }, k: 'a', n: 2 }]
 * ```
 *
 * @param options The event time, window size and offset, key, aggregators and late-data handling.
 * @returns An operator from row batches to {@link ResultBatch}es; follow it with `outputMode`.
 * @throws {ColumnNotFoundError} `windowTumbling: cannot resolve '<col>' given input columns: [...]` when the pipeline is built over a source with a schema, for a `keyBy`, event-time or aggregate field that is not a column; without a schema (as an error notification) `… in batch <n>: no row has it; …`, unless `checkColumns: false`.
 * @throws {InvalidValueError} (as an error notification) when an aggregate gets a value it cannot take, e.g. `sum("flag"): cannot sum true (a boolean) in batch 3. …` (see docs/guides/types-and-schemas.md).
 * @throws {InvalidDurationError} `windowTumbling: size is not a duration; got …` / `… must have a fixed length: intervals greater than a month are not supported; …`
 * @throws {InvalidOptionError} `windowTumbling: size must be positive; got …`
 * @throws {InvalidOptionError} `windowTumbling: startTime must be less than slide in absolute value; got …`
 * @throws {InvalidOptionError} `windowTumbling: aggregate must be a non-empty record of aggregators; got …`
 * @throws {InvalidOptionError} `windowTumbling: keyBy must be a field name, a list of field names or a function of the row; got …`
 * @throws {UnsupportedOperationError} (on subscribe) `Detected pattern of possible 'correctness' issue due to global watermark. …` after an aggregation in update or complete mode.
 * @throws {EventTimeError} (as an error notification) a row's event time is missing or invalid, unless `onInvalidEventTime: 'drop'`.
 * @throws {UserFunctionError} (as an error notification) `keyBy` or an aggregator threw.
 * @see windowSliding
 * @see outputMode
 */
export function windowTumbling<T, const S extends AggregateSpec<T>>(
  options: WindowTumblingOptions<T, undefined, S> & { readonly keyBy?: undefined },
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, undefined, S>, 'window'>>;
export function windowTumbling<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  options: WindowTumblingOptions<T, K, S>,
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'window'>>;
/**
 * `windowTumbling<Row>()` fixes the row type and returns `windowTumbling` for
 * rows `Row`, still generic in the key and the aggregates: use it to start a
 * fragment, `pipe(windowTumbling<Row>()({ … }), outputMode('append'))`, where
 * no source gives the row type.
 */
export function windowTumbling<T>(): WindowTumblingFor<T>;
/** Refused: `windowTumbling<Row>(options)` would lose the aggregate types; write `windowTumbling<Row>()(options)`. */
export function windowTumbling<T>(options: WindowTumblingOptions<T, KeySpec<T> | undefined, AggregateSpec<T>> & RowTypeArgumentOnly<'windowTumbling'>): never;
export function windowTumbling<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  // Optional only for `windowTumbling<Row>()`; a call with options (or with `undefined`) goes on to validate them.
  options: WindowTumblingOptions<T, K, S> = undefined as never,
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'window'>> | WindowTumblingFor<T> {
  if (arguments.length === 0) return windowTumbling as WindowTumblingFor<T>;
  const op = 'windowTumbling';
  const spec = windowSpec(op, { size: options?.size, ...(options?.startTime === undefined ? {} : { startTime: options.startTime }) });
  return windowAggregation<T, K, S, WindowedRow<T, K, S>>(op, options.eventTime, spec, options);
}
