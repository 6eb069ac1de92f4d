import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import type { ResultBatch } from '../lib/batch/ResultBatch.js';
import type { AggregateSpec } from '../lib/aggregate/Aggregator.js';
import type { RowTypeArgumentOnly, WindowedRow } from '../lib/aggregate/rowTypes.js';
import { windowAggregation, type AggregationCommonOptions } from '../lib/aggregate/windowAggregation.js';
import { InvalidOptionError, describeValue } from '../lib/errors/index.js';
import { windowSpec } from '../lib/window/WindowBounds.js';
import type { Duration, EventTimeSpec, KeySpec } from '../lib/types.js';

/** Options for {@link windowSliding}. */
export interface WindowSlidingOptions<T, K extends KeySpec<T> | undefined, S extends AggregateSpec<T>> extends AggregationCommonOptions<T, K, S> {
  /** The event-time column (epoch ms, `Date`, ISO-8601 string, or a window struct), or a function of the row. */
  readonly eventTime: EventTimeSpec<T>;
  /** Window length; no months or years. */
  readonly size: Duration;
  /** Distance between window starts, `0 < slide <= size`. */
  readonly slide: Duration;
  /** Offset of the window grid (Spark's `startTime`), `|startTime| < slide`. @defaultValue `0` */
  readonly startTime?: Duration;
}

/** `windowSliding` for rows `T`, generic in the key and the aggregates: what `windowSliding<T>()` returns. */
export interface WindowSlidingFor<T> {
  <const S extends AggregateSpec<T>>(options: WindowSlidingOptions<T, undefined, S> & { readonly keyBy?: undefined }): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, undefined, S>, 'window'>>;
  <const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(options: WindowSlidingOptions<T, K, S>): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'window'>>;
}

/**
 * Aggregates rows per sliding event-time window (windows of `size` starting
 * every `slide`) and key; each row counts in every window that holds it.
 *
 * Spark: `df.groupBy(window(col("ts"), size, slide, startTime), keys...).agg(...)`.
 *
 * ```text
 * input    a---b---|     a = #0 [ts 12s]  b = #1 [ts 31s]   (withWatermark('ts', '5 seconds'))
 *          windowSliding({ eventTime: 'ts', size: '10 seconds', slide: '5 seconds', aggregate: { n: count() } }), outputMode('append')
 * output   a---b---|     a = #0 [] wm 7s   b = #1 [[5s,15s) n 1, [10s,20s) n 1] wm 26s
 * ```
 *
 * A row at `t` falls in the windows `start_i = lastStart - i*slide` with
 * `lastStart = t - floorMod(t - startTime, slide)`, `i < ceil(size/slide)`,
 * that contain it: `size/slide` windows when `slide` divides `size`.
 *
 * **State**: one accumulator per open window and key; about `size/slide` times
 * the state of a tumbling window.
 *
 * **Late data**: lateness is decided per window: a row counts in those of its
 * windows that end after the previous batch's watermark; a row none of whose
 * windows is open any more is dropped, counted and handed to `onLateRows`.
 *
 * **Output modes**: as {@link windowTumbling}.
 *
 * **Types**: the result row type follows `keyBy` and `aggregate`. The row type
 * comes from the source (`source$.pipe(windowSliding(…))`) or an earlier
 * operator (`pipe(withWatermark<Row>(…), windowSliding(…))`). Where this
 * operator starts a fragment, fix the row type with `windowSliding<Row>()`,
 * which returns `windowSliding` for rows `Row`. `windowSliding<Row>(options)`
 * does not compile: once a type argument is given TypeScript infers none, and
 * the key and aggregate types would be lost.
 *
 * ```ts
 * type Click = { ts: number; page: string; user: string };
 * const fragment = pipe(windowSliding<Click>()({ eventTime: 'ts', size: '10 minutes', slide: '5 minutes', keyBy: 'page', aggregate: { views: count() } }), outputMode('update'));
 * // rows: { window: WindowBounds; page: string; views: number }
 * ```
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 12_000 }]])
 *   .pipe(windowSliding({ eventTime: 'ts', size: '10 seconds', slide: '5 seconds', aggregate: { n: count() } }), outputMode('complete'))
 *   .subscribe((b) => console.log(b.rows));
 * // => [{ window: { start: 5000, end: 15000 }, n: 1 }, { window: { start: 10000, end: 20000 }, n: 1 }]
 * ```
 *
 * @param options The event time, window size, slide and offset, key, aggregators and late-data handling.
 * @returns An operator from row batches to {@link ResultBatch}es; follow it with `outputMode`.
 * @throws {ColumnNotFoundError} `windowSliding: cannot resolve '<col>' given input columns: [...]` when the pipeline is built over a source with a schema, for a `keyBy`, event-time or aggregate field that is not a column; without a schema (as an error notification) `… in batch <n>: no row has it; …`, unless `checkColumns: false`.
 * @throws {InvalidValueError} (as an error notification) when an aggregate gets a value it cannot take, e.g. `sum("flag"): cannot sum true (a boolean) in batch 3. …` (see docs/guides/types-and-schemas.md).
 * @throws {InvalidOptionError} `windowSliding: slide is required; got undefined. …`
 * @throws {InvalidOptionError} `windowSliding: slide must not exceed size; got slide …, size …. Use windowTumbling for non-overlapping windows.`
 * @throws {InvalidOptionError} `windowSliding: startTime must be less than slide in absolute value; got …`
 * @throws {InvalidDurationError} `windowSliding: slide must have a fixed length: intervals greater than a month are not supported; …`
 * @throws {UnsupportedOperationError} (on subscribe) `Detected pattern of possible 'correctness' issue due to global watermark. …` after an aggregation in update or complete mode.
 * @throws {EventTimeError} (as an error notification) a row's event time is missing or invalid, unless `onInvalidEventTime: 'drop'`.
 * @throws {UserFunctionError} (as an error notification) `keyBy`, an event-time function or an aggregator threw.
 * @see windowTumbling
 * @see outputMode
 */
export function windowSliding<T, const S extends AggregateSpec<T>>(
  options: WindowSlidingOptions<T, undefined, S> & { readonly keyBy?: undefined },
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, undefined, S>, 'window'>>;
export function windowSliding<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  options: WindowSlidingOptions<T, K, S>,
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'window'>>;
/**
 * `windowSliding<Row>()` fixes the row type and returns `windowSliding` for
 * rows `Row`, still generic in the key and the aggregates: use it to start a
 * fragment where no source gives the row type,
 * `pipe(windowSliding<Row>()({ … }), outputMode(…))`.
 */
export function windowSliding<T>(): WindowSlidingFor<T>;
/** Refused: `windowSliding<Row>(options)` would lose the aggregate types; write `windowSliding<Row>()(options)`. */
export function windowSliding<T>(options: WindowSlidingOptions<T, KeySpec<T> | undefined, AggregateSpec<T>> & RowTypeArgumentOnly<'windowSliding'>): never;
export function windowSliding<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  // Optional only for `windowSliding<Row>()`; a call with options (or with `undefined`) goes on to validate them.
  options: WindowSlidingOptions<T, K, S> = undefined as never,
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'window'>> | WindowSlidingFor<T> {
  if (arguments.length === 0) return windowSliding as WindowSlidingFor<T>;
  const op = 'windowSliding';
  if (options?.slide === undefined) {
    throw new InvalidOptionError(`${op}: slide is required; got ${describeValue(options?.slide)}. Pass a duration such as '5 minutes', or use windowTumbling.`, 'slide', options?.slide, 'a duration');
  }
  const spec = windowSpec(op, { size: options.size, slide: options.slide, ...(options.startTime === undefined ? {} : { startTime: options.startTime }) });
  return windowAggregation<T, K, S, WindowedRow<T, K, S>>(op, options.eventTime, spec, options);
}
