import type { StateOperatorMetrics } from '../state/metrics.js';
import { parseIsoUtc } from '../time/eventTime.js';

/**
 * Which column carries the event-time watermark, as Spark tracks it through a
 * query: set by `withWatermark`, moved to the window column by window
 * assignment and windowed aggregation. Stateful operators downstream compare
 * this column with the watermark to find late rows; for a window column the
 * window's `end` is compared.
 */
export interface EventTimeMarker {
  /** The column name, or `'<function>'` when the event time is computed by {@link EventTimeMarker.read}. */
  readonly field: string;
  /** `true` when the column holds window structs `{ start, end }`. */
  readonly isWindow: boolean;
  /** The delay given to `withWatermark`, in milliseconds. */
  readonly delayMs: number;
  /** Reads the column when it is computed by a function rather than named. */
  readonly read?: (row: never) => unknown;
}

/** Event-time statistics of the rows a watermark operator saw in one batch (Spark's progress `eventTime`). */
export interface EventTimeStats {
  readonly min: number;
  readonly max: number;
  readonly avg: number;
  readonly count: number;
}

/** Metrics gathered by the operators a batch passed through; the query runtime turns them into progress reports. */
export interface BatchMetrics {
  /** One entry per stateful operator, upstream first. */
  readonly stateOperators?: readonly StateOperatorMetrics[];
  /** Event-time statistics from `withWatermark`. */
  readonly eventTime?: EventTimeStats;
  /** Rows dropped because their event time was missing or invalid (`onInvalidEventTime: 'drop'`). */
  readonly numRowsDroppedInvalidEventTime?: number;
}

/**
 * One micro-batch: the unit every operator here consumes and emits, once per
 * RxJS emission.
 *
 * `watermark` is the event-time watermark after this batch (epoch ms, 0 until
 * one is known). Spark's trailing no-data batch is folded into the batch that
 * advanced the watermark: a stateful operator drops as late what is at or below
 * the previous batch's watermark, folds in the rows, then finalises and evicts
 * with this batch's watermark, all in one output batch. An empty batch is still
 * a batch.
 */
export interface Batch<T> {
  /** 0, 1, 2 … within a query; continues after recovery. */
  readonly batchId: number;
  readonly rows: readonly T[];
  /** Event-time watermark (epoch ms) after this batch; 0 until one is known. */
  readonly watermark: number;
  /** The watermarked column, when a `withWatermark` is upstream. */
  readonly eventTime?: EventTimeMarker;
  /** Metrics from the operators this batch passed through. */
  readonly metrics?: BatchMetrics;
}

/** `true` when `value` has the shape of a {@link Batch}. */
export function isBatch(value: unknown): value is Batch<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as { batchId?: unknown; rows?: unknown; watermark?: unknown };
  return typeof b.batchId === 'number' && Array.isArray(b.rows) && typeof b.watermark === 'number';
}

/** Reads the value a watermark is compared with: the event time, or a window's `end`. `NaN` when missing. */
export function lateValueOf(marker: EventTimeMarker, row: unknown): number {
  const raw = marker.read !== undefined ? (marker.read as (r: unknown) => unknown)(row) : (row as Record<string, unknown>)[marker.field];
  if (marker.isWindow) {
    const end = (raw as { end?: unknown } | null | undefined)?.end;
    return typeof end === 'number' ? end : Number.NaN;
  }
  if (typeof raw === 'number') return raw;
  if (raw instanceof Date) return raw.getTime();
  if (typeof raw === 'string') return parseIsoUtc(raw);
  return Number.NaN;
}

/** Appends one stateful operator's metrics to a batch's metrics. */
export function withStateMetrics(metrics: BatchMetrics | undefined, entry: StateOperatorMetrics): BatchMetrics {
  return { ...metrics, stateOperators: [...(metrics?.stateOperators ?? []), entry] };
}

/** Merges the metrics of two input batches (for two-input operators). */
export function mergeMetrics(a: BatchMetrics | undefined, b: BatchMetrics | undefined): BatchMetrics | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const ea = a.eventTime;
  const eb = b.eventTime;
  let eventTime: EventTimeStats | undefined = ea ?? eb;
  if (ea !== undefined && eb !== undefined) {
    const count = ea.count + eb.count;
    eventTime = { min: Math.min(ea.min, eb.min), max: Math.max(ea.max, eb.max), avg: count === 0 ? 0 : (ea.avg * ea.count + eb.avg * eb.count) / count, count };
  }
  const dropped = (a.numRowsDroppedInvalidEventTime ?? 0) + (b.numRowsDroppedInvalidEventTime ?? 0);
  return {
    stateOperators: [...(a.stateOperators ?? []), ...(b.stateOperators ?? [])],
    ...(eventTime === undefined ? {} : { eventTime }),
    ...(dropped === 0 ? {} : { numRowsDroppedInvalidEventTime: dropped }),
  };
}
