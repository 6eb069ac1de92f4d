import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { dedupeOperator } from '../lib/dedupe/dedupeOperator.js';
import type { KeySpec, LateRowsHandler } from '../lib/types.js';

/** Options for {@link dropDuplicatesWithinWatermark}. */
export interface DropDuplicatesWithinWatermarkOptions<T> {
  /** Stable operator id used for checkpoint state. @defaultValue `dropDuplicatesWithinWatermark#<n>` */
  readonly name?: string;
  /** Receives, per batch, the rows dropped because they were behind the watermark. */
  readonly onLateRows?: LateRowsHandler<T>;
  /**
   * Check that the key fields exist: against the source's schema when the
   * pipeline is built, else in every non-empty batch (a key field no row of
   * the batch has is a `ColumnNotFoundError`). Pass `false` for sparse data.
   * @defaultValue `true`
   */
  readonly checkColumns?: boolean;
}

/**
 * Emits the first row of every key and drops the rows with the same key that
 * arrive while that first row is within the watermark delay, even when their
 * event times differ; the key is the listed columns (the event-time column
 * need not be one of them), or the whole row.
 *
 * Spark: `Dataset.dropDuplicatesWithinWatermark(colNames)`.
 *
 * ```text
 * input    a---b---c---d---e---|   a = #0 [a@17s]            wm 15s
 *                                  b = #1 [a@16s]            wm 15s
 *                                  c = #2 [a@13s]            wm 15s
 *                                  d = #3 [b@22s, c@21s]     wm 20s
 *                                  e = #4 [a@21s]            wm 20s
 *          withWatermark('ts', '2 seconds'), dropDuplicatesWithinWatermark('id')
 * output   a---b---c---d---e---|   a: [a@17s] (a expires at 19s)   b: [] (duplicate)
 *                                  c: [] (late: 13s <= 15s)   d: [b@22s, c@21s] (evicts a: 19s <= 20s)
 *                                  e: [a@21s] (a is new again)
 * ```
 *
 * **State**: one entry per key, holding `expiresAt` = the first row's event
 * time + the watermark delay (the `delay` given to `withWatermark`). Later
 * duplicates do not extend it. The entry is evicted once
 * `expiresAt <= watermark`; after that the key is new again. Eviction visits
 * only the keys due (indexed by `expiresAt`), so state stays bounded by the
 * number of keys seen within one delay.
 *
 * **Late data**: a row whose event time is at or below the previous batch's
 * watermark is dropped before the key lookup, counted in
 * `numRowsDroppedByWatermark` and handed to `onLateRows`.
 *
 * **Output modes**: append-style — only new rows are emitted.
 *
 * @example
 * ```ts
 * import { fromBatches, withWatermark, dropDuplicatesWithinWatermark } from 'rxjs-structured-streaming';
 *
 * fromBatches([[{ id: 'a', ts: 17_000 }], [{ id: 'a', ts: 16_000 }], [{ id: 'b', ts: 22_000 }], [{ id: 'a', ts: 21_000 }]])
 *   .pipe(withWatermark('ts', '2 seconds'), dropDuplicatesWithinWatermark('id'))
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 [ { id: 'a', ts: 17000 } ]
 * // => 1 []
 * // => 2 [ { id: 'b', ts: 22000 } ]
 * // => 3 [ { id: 'a', ts: 21000 } ]
 * ```
 *
 * @param keys The key: a field name, a list of field names, or a function of the row; the whole row when left out.
 * @param options Operator id and late-row side output.
 * @returns An operator emitting, per batch, the rows whose key is new, with the batch's id, watermark and event-time marker.
 * @throws {InvalidOptionError} `dropDuplicatesWithinWatermark: keys must be a field name, a non-empty list of field names or a function of the row; got <value>. …` for a bad key spec.
 * @throws {UnsupportedOperationError} `dropDuplicatesWithinWatermark: dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark` — on subscribe when no `withWatermark` is upstream, or (when a foreign operator hides the pipeline) for the first batch without an event-time marker.
 * @throws {UserFunctionError} (as an error notification) when a key function or `onLateRows` throws.
 * @see dropDuplicates
 * @see withWatermark
 */
export function dropDuplicatesWithinWatermark<T>(keys?: KeySpec<T>, options: DropDuplicatesWithinWatermarkOptions<T> = {}): MonoTypeOperatorFunction<Batch<T>> {
  return dedupeOperator('dropDuplicatesWithinWatermark', 'withinWatermark', keys, options);
}
