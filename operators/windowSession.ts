import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import type { ResultBatch } from '../lib/batch/ResultBatch.js';
import { aggregationOperator } from '../lib/aggregate/aggregationOperator.js';
import { compileAggregates, type AggregateSpec } from '../lib/aggregate/Aggregator.js';
import { compileKey } from '../lib/aggregate/groupKey.js';
import type { RowTypeArgumentOnly, WindowedRow } from '../lib/aggregate/rowTypes.js';
import type { SessionAggState } from '../lib/aggregate/sessionEngine.js';
import { sessionCodec, sessionRunner } from '../lib/aggregate/sessionRunner.js';
import { aggregationColumns, windowWatermarking, type AggregationCommonOptions } from '../lib/aggregate/windowAggregation.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../lib/errors/index.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import { eventTimeReader, invalidEventTimePolicy, type EventTimeReader } from '../lib/time/eventTime.js';
import { parseDuration, parsePositiveDuration } from '../lib/time/parseDuration.js';
import type { Duration, EventTimeSpec, KeySpec } from '../lib/types.js';

/** Options for {@link windowSession}. */
export interface WindowSessionOptions<T, K extends KeySpec<T> | undefined, S extends AggregateSpec<T>> extends AggregationCommonOptions<T, K, S> {
  /** The event-time column, or a function of the row. */
  readonly eventTime: EventTimeSpec<T>;
  /**
   * Inactivity gap: a session closes when no event of its key arrives within
   * `gap` of the last one. A {@link Duration}, or a function of the row giving
   * its own gap (a number of ms or a Duration); a row whose gap is null,
   * undefined, zero or negative is discarded (Spark drops it) and counted in
   * the `numRowsDiscardedByGap` custom metric.
   */
  readonly gap: Duration | ((row: T) => Duration | null | undefined);
}

/** `windowSession` for rows `T`, generic in the key and the aggregates: what `windowSession<T>()` returns. */
export interface WindowSessionFor<T> {
  <const S extends AggregateSpec<T>>(options: WindowSessionOptions<T, undefined, S> & { readonly keyBy?: undefined }): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, undefined, S>, 'session'>>;
  <const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(options: WindowSessionOptions<T, K, S>): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'session'>>;
}

/**
 * Aggregates rows per session window and key: each event opens `[t, t + gap)`,
 * and sessions of the same key that overlap or touch merge, so a session
 * lasts while events keep arriving within `gap` of each other.
 *
 * Spark: `df.groupBy(session_window(col("ts"), gap), keys...).agg(...)`.
 *
 * ```text
 * input    a---b---c---|     a = #0 [u1@10s, u1@15s]  b = #1 [u1@40s]  c = #2 [u1@75s]   (withWatermark('ts', '10 seconds'), gap 10s)
 *          windowSession({ eventTime: 'ts', gap: '10 seconds', keyBy: 'user', aggregate: { n: count() } }), outputMode('append')
 * output   a---b---c---|     a = #0 [] wm 5s   b = #1 [[10s,25s) u1 n 2] wm 30s   c = #2 [[40s,50s) u1 n 1] wm 65s
 * ```
 *
 * A new event can bridge two sessions into one (`[25,35)` and `[40,50)` joined
 * by an event at 30 with gap 10 become `[25,50)`).
 *
 * **State**: the open sessions of each key (sorted, with one accumulator set
 * each) plus a heap of session ends, so eviction visits only the keys whose
 * sessions close.
 *
 * **Late data**: an event is late when its own session `[t, t + gap)` ends at
 * or before the previous batch's watermark (also in complete mode, as Spark's
 * code does); late events are dropped, counted and handed to `onLateRows`.
 *
 * **Output modes**: `append` emits a session once the watermark passes its
 * end; `complete` emits every session every batch; `update` is rejected, as
 * in Spark.
 *
 * **Types**: the result row type follows `keyBy` and `aggregate`. The row type
 * comes from the source (`source$.pipe(windowSession(…))`) or an earlier
 * operator (`pipe(withWatermark<Row>(…), windowSession(…))`). Where this
 * operator starts a fragment, fix the row type with `windowSession<Row>()`,
 * which returns `windowSession` for rows `Row`. `windowSession<Row>(options)`
 * does not compile: once a type argument is given TypeScript infers none, and
 * the key and aggregate types would be lost.
 *
 * ```ts
 * type Click = { ts: number; page: string; user: string };
 * const fragment = pipe(windowSession<Click>()({ eventTime: 'ts', gap: '30 seconds', keyBy: 'user', aggregate: { pages: collectList('page') } }), outputMode('append'));
 * // rows: { window: WindowBounds; user: string; pages: string[] }
 * ```
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 10_000, user: 'u1' }, { ts: 15_000, user: 'u1' }], [{ ts: 40_000, user: 'u1' }]])
 *   .pipe(withWatermark('ts', '10 seconds'), windowSession({ eventTime: 'ts', gap: '10 seconds', keyBy: 'user', aggregate: { n: count() } }), outputMode('append'))
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 []
 * // => 1 [{ window: { start: 10000, end: 25000 }, user: 'u1', n: 2 }]
 * ```
 *
 * @param options The event time, gap, key, aggregators and late-data handling.
 * @returns An operator from row batches to {@link ResultBatch}es; follow it with `outputMode('append' | 'complete')`.
 * @throws {ColumnNotFoundError} `windowSession: cannot resolve '<col>' given input columns: [...]` when the pipeline is built over a source with a schema, for a `keyBy`, event-time or aggregate field that is not a column; without a schema (as an error notification) `… in batch <n>: no row has it; …`, unless `checkColumns: false`.
 * @throws {InvalidValueError} (as an error notification) when an aggregate gets a value it cannot take, e.g. `sum("flag"): cannot sum true (a boolean) in batch 3. …` (see docs/guides/types-and-schemas.md).
 * @throws {InvalidDurationError} `windowSession: gap must be positive; got …` for a static gap of zero or less.
 * @throws {InvalidDurationError} `windowSession: gap must have a fixed length: intervals greater than a month are not supported; …`
 * @throws {InvalidOptionError} `windowSession: gap is required; got undefined. …`
 * @throws {UnsupportedOperationError} (on subscribe) `windowSession: Global aggregation with session window in streaming query is not supported.` without `keyBy`.
 * @throws {UnsupportedOperationError} (on subscribe, from `outputMode('update')`) `Update output mode not supported for session window on streaming DataFrames/DataSets`.
 * @throws {EventTimeError} (as an error notification) a row's event time is missing or invalid, unless `onInvalidEventTime: 'drop'`.
 * @throws {UserFunctionError} (as an error notification) `keyBy`, an event-time function or an aggregator threw.
 * @see windowTumbling
 * @see outputMode
 */
export function windowSession<T, const S extends AggregateSpec<T>>(
  options: WindowSessionOptions<T, undefined, S> & { readonly keyBy?: undefined },
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, undefined, S>, 'session'>>;
export function windowSession<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  options: WindowSessionOptions<T, K, S>,
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'session'>>;
/**
 * `windowSession<Row>()` fixes the row type and returns `windowSession` for
 * rows `Row`, still generic in the key and the aggregates: use it to start a
 * fragment where no source gives the row type,
 * `pipe(windowSession<Row>()({ … }), outputMode(…))`.
 */
export function windowSession<T>(): WindowSessionFor<T>;
/** Refused: `windowSession<Row>(options)` would lose the aggregate types; write `windowSession<Row>()(options)`. */
export function windowSession<T>(options: WindowSessionOptions<T, KeySpec<T> | undefined, AggregateSpec<T>> & RowTypeArgumentOnly<'windowSession'>): never;
export function windowSession<T, const K extends KeySpec<T> | undefined, const S extends AggregateSpec<T>>(
  // Optional only for `windowSession<Row>()`; a call with options (or with `undefined`) goes on to validate them.
  options: WindowSessionOptions<T, K, S> = undefined as never,
): OperatorFunction<Batch<T>, ResultBatch<WindowedRow<T, K, S>, 'session'>> | WindowSessionFor<T> {
  if (arguments.length === 0) return windowSession as WindowSessionFor<T>;
  const op = 'windowSession';
  const gapOption = options?.gap;
  if (gapOption === undefined || gapOption === null) {
    throw new InvalidOptionError(`${op}: gap is required; got ${describeValue(gapOption)}. Pass a duration such as '30 seconds' or a function of the row.`, 'gap', gapOption, 'a duration or a function');
  }
  let gapMs: number | ((row: T) => number);
  if (typeof gapOption === 'function') {
    const fn = gapOption;
    gapMs = (row: T): number => {
      const g = fn(row);
      if (g === null || g === undefined) return Number.NaN;
      return typeof g === 'number' ? g : parseDuration(g, { option: `${op}: gap` });
    };
  } else gapMs = parsePositiveDuration(gapOption, `${op}: gap`);
  const reader = eventTimeReader(op, options.eventTime);
  const key = compileKey<T>(op, options.keyBy);
  const aggs = compileAggregates<T>(op, options.aggregate, ['window', ...key.outputFields]);
  const invalidPolicy = invalidEventTimePolicy(op, options.onInvalidEventTime);
  // A plain column is read directly by the engine; a dotted name (`left.ts`) or a converted one through the reader.
  const time = { field: reader.isField && reader.markerRead === undefined && !reader.field.includes('.') ? reader.field : undefined, ms: reader.ms };
  return aggregationOperator<T, WindowedRow<T, K, S>, SessionAggState, 'session'>({
    op,
    kind: 'session',
    name: options.name,
    descriptor: { eventTime: reader.field, gapMs: typeof gapMs === 'number' ? gapMs : '<function>', keyBy: key.kind === 'function' ? '<function>' : key.fields, aggregate: aggs.names },
    codec: sessionCodec(aggs, key),
    onLateRows: options.onLateRows,
    invalidPolicy,
    valueCounts: aggs.counts,
    namedColumns: aggregationColumns(key, aggs, reader as EventTimeReader<unknown>),
    checkColumns: options.checkColumns,
    ...windowWatermarking(reader),
    checkShape: () => (key.kind === 'none' ? new UnsupportedOperationError(op, UNSUPPORTED.globalSessionWindow) : undefined),
    createRunner: (_hasWatermark, _marker, restored, checkpointing, mode) => sessionRunner<T, WindowedRow<T, K, S>>(op, aggs, key, gapMs, time, reader, invalidPolicy, restored, checkpointing, mode),
  });
}
