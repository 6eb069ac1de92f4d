import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import type { ResultBatch } from '../batch/ResultBatch.js';
import { checkSameReading, eventTimeReader, invalidEventTimePolicy, type EventTimeReader } from '../time/eventTime.js';
import type { EventTimeSpec, InvalidEventTimePolicy, KeySpec, LateRowsHandler } from '../types.js';
import type { WindowSpec } from '../window/WindowBounds.js';
import { aggregationOperator, type AggregationOperatorConfig, type GroupingWatermark } from './aggregationOperator.js';
import { watermarkNamed, type PipelineInfo } from '../internal/pipeline.js';
import { compileAggregates, type AggregateSpec } from './Aggregator.js';
import { fixedCodec, fixedRunner } from './fixedRunner.js';
import { compileKey } from './groupKey.js';
import { isOrderInsensitive } from './orderInsensitive.js';
import { isPerWindowState, paneRunner, slidingCodec, type SlidingAggState } from './paneRunner.js';
import type { NamedColumn } from '../internal/knownColumns.js';

/** Options every aggregation operator takes besides its window. */
export interface AggregationCommonOptions<T, K, S> {
  /** Grouping key: a field name, a list of field names, or a function of the row. @defaultValue no key (one group per window) */
  readonly keyBy?: K;
  /** Named aggregators, e.g. `{ n: count(), total: sum('amount') }`. */
  readonly aggregate: S;
  /** Stable operator id for checkpoints and metrics. @defaultValue `<operator>#<n>` */
  readonly name?: string;
  /** Late-data side output: receives each batch's rows dropped as late. */
  readonly onLateRows?: LateRowsHandler<T>;
  /** What to do with a row whose event time is missing or unparsable. @defaultValue `'error'` */
  readonly onInvalidEventTime?: InvalidEventTimePolicy;
  /**
   * Check that the columns this operator names (`keyBy` fields, the fields of
   * built-in aggregates, the event-time column) exist: against the source's
   * schema when the pipeline is built, else in every non-empty batch (a
   * field no row of the batch has is a `ColumnNotFoundError`). Pass `false`
   * for sparse data, where a field may be missing from a whole batch.
   * @defaultValue `true`
   */
  readonly checkColumns?: boolean;
}

/** The columns an aggregation names, for the column checks: key fields, aggregate fields, and the event-time column. */
export function aggregationColumns(key: { readonly fields: readonly string[] }, aggs: { readonly fields: readonly NamedColumn[] }, eventTime?: EventTimeReader<unknown>): NamedColumn[] {
  const named: NamedColumn[] = key.fields.map((column) => ({ option: 'keyBy', column }));
  if (eventTime !== undefined && eventTime.isField) named.push({ option: 'eventTime', column: eventTime.field });
  for (const f of aggs.fields) named.push(f);
  return named;
}

/**
 * The watermarked column a window aggregation's event time names: by name
 * (also `left.<c>` / `right.<c>` after a join), or the very function given to
 * `withWatermark`.
 */
export function namedWatermark<T>(info: PipelineInfo, reader: EventTimeReader<T>): GroupingWatermark | undefined {
  if (reader.isField) {
    const column = watermarkNamed(info, reader.field);
    if (column === undefined) return undefined;
    // The same column read another way (a unit or format on one side only) would put rows in the wrong windows.
    if (column.side === undefined) checkSameReading(reader as EventTimeReader<unknown>, { field: column.column, read: column.read });
    return { name: reader.field, column };
  }
  const column = info.watermarks.find((w) => w.read !== undefined && w.read === reader.markerRead);
  return column === undefined ? undefined : { name: reader.field, column };
}

export type WatermarkTracking = Pick<AggregationOperatorConfig<unknown, unknown, unknown>, 'groupingWatermark' | 'outputWatermark'>;

/** Window aggregations: watermarked when the event time is a watermarked column; the output's watermarked column is `window`. */
export function windowWatermarking<T>(reader: EventTimeReader<T>): WatermarkTracking {
  return {
    groupingWatermark: (info) => namedWatermark(info, reader),
    outputWatermark: (input) => ({ column: 'window', isWindow: true, delayMs: input.column.delayMs }),
  };
}

/** The shared implementation of `windowTumbling` and `windowSliding`. */
export function windowAggregation<T, K extends KeySpec<T> | undefined, S extends AggregateSpec<T>, R>(
  op: string,
  eventTime: EventTimeSpec<T>,
  spec: WindowSpec,
  options: AggregationCommonOptions<T, K, S>,
): OperatorFunction<Batch<T>, ResultBatch<R, 'window'>> {
  const reader = eventTimeReader(op, eventTime);
  const key = compileKey<T>(op, options.keyBy);
  const aggs = compileAggregates<T>(op, options.aggregate, ['window', ...key.outputFields]);
  const invalidPolicy = invalidEventTimePolicy(op, options.onInvalidEventTime);
  const bucketing = spec.slideMs === spec.sizeMs ? 'tumbling' : 'sliding';
  // A plain column is read directly by the engine; a dotted name (`left.ts`) or a converted one through the reader.
  const time = { field: reader.isField && reader.markerRead === undefined && !reader.field.includes('.') ? reader.field : undefined, ms: reader.ms };
  // Sliding windows of order-insensitive aggregators keep one partial aggregate per pane.
  const panes = bucketing === 'sliding' && aggs.aggregators.every(isOrderInsensitive);
  return aggregationOperator<T, R, SlidingAggState, 'window'>({
    op,
    kind: 'window',
    name: options.name,
    descriptor: { eventTime: reader.field, sizeMs: spec.sizeMs, slideMs: spec.slideMs, startMs: spec.startMs, keyBy: key.kind === 'function' ? '<function>' : key.fields, aggregate: aggs.names },
    codec: slidingCodec(fixedCodec(aggs, key)),
    onLateRows: options.onLateRows,
    invalidPolicy,
    valueCounts: aggs.counts,
    namedColumns: aggregationColumns(key, aggs, reader as EventTimeReader<unknown>),
    checkColumns: options.checkColumns,
    ...windowWatermarking(reader),
    createRunner: (_hasWatermark, _marker, restored, checkpointing, mode) =>
      // A pane checkpoint is read by panes; one from before panes keeps its per-window layout.
      (panes && !isPerWindowState(restored)) || restored?.paneMs !== undefined
        ? paneRunner<T, R>({ op, aggs, key, spec, invalidPolicy }, time, reader, restored, checkpointing, mode)
        : fixedRunner<T, R>({ op, aggs, key, spec, invalidPolicy }, bucketing, time, reader, restored, checkpointing, mode),
  });
}
