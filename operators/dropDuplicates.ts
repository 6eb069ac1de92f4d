import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { dedupeOperator } from '../lib/dedupe/dedupeOperator.js';
import type { KeySpec, LateRowsHandler } from '../lib/types.js';

/** Options for {@link dropDuplicates}. */
export interface DropDuplicatesOptions<T> {
  /** Stable operator id used for checkpoint state. @defaultValue `dropDuplicates#<n>` */
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
 * Emits the first row of every key and drops every later row with the same
 * key; the key is the listed columns, or the whole row when none are listed.
 *
 * Spark: `Dataset.dropDuplicates(colNames)` on a streaming Dataset.
 *
 * ```text
 * input    a---b---c---|     a = #0 [id 1 @10s, id 1 @10s, id 2 @12s]  wm 0
 *                            b = #1 [id 3 @25s]                        wm 15s
 *                            c = #2 [id 2 @12s, id 4 @30s]             wm 20s
 *          withWatermark('ts', '10 seconds'), dropDuplicates(['id', 'ts'])
 * output   a---b---c---|     a: [id 1 @10s, id 2 @12s]   b: [id 3 @25s] (evicts @10s, @12s)
 *                            c: [id 4 @30s] (id 2 @12s is late: 12s <= 15s, dropped and counted)
 * ```
 *
 * The first row per key — in arrival order, also within one batch — is emitted
 * unchanged; later rows with that key are dropped even when other columns
 * differ.
 *
 * **State**: one entry per key seen. Without a watermark every key is
 * remembered for ever, so state grows with the number of distinct keys (as in
 * Spark: give the stream a watermark and include the event-time column in the
 * key to bound it). With a watermark whose column is a key column (or with a
 * whole-row key), a key is evicted once the watermark reaches its event time:
 * `eventTime <= watermark`. Eviction visits only the keys due (they are
 * indexed by event time). Each batch costs O(rows + evicted keys), with one
 * Immutable map update per new key.
 *
 * **Late data**: with a watermark upstream, a row whose event time is at or
 * below the previous batch's watermark is dropped before the key lookup,
 * counted in `numRowsDroppedByWatermark` and handed to `onLateRows` — whether
 * or not the event-time column is a key column (if it is not, keys are never
 * evicted, but late rows are still dropped).
 *
 * **Output modes**: append-style — only new rows are emitted.
 *
 * @example
 * ```ts
 * import { fromBatches, withWatermark, dropDuplicates } from 'rxjs-structured-streaming';
 *
 * fromBatches([[{ id: 1, ts: 10_000 }, { id: 1, ts: 10_000 }], [{ id: 2, ts: 25_000 }], [{ id: 1, ts: 10_000 }]])
 *   .pipe(withWatermark('ts', '10 seconds'), dropDuplicates(['id', 'ts']))
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 [ { id: 1, ts: 10000 } ]
 * // => 1 [ { id: 2, ts: 25000 } ]
 * // => 2 []
 * ```
 *
 * @param keys The key: a field name, a list of field names, or a function of the row; the whole row when left out.
 * @param options Operator id and late-row side output.
 * @returns An operator emitting, per batch, the rows whose key is new, with the batch's id, watermark and event-time marker.
 * @throws {InvalidOptionError} `dropDuplicates: keys must be a field name, a non-empty list of field names or a function of the row; got <value>. …` for a bad key spec.
 * @throws {UnsupportedOperationError} (on subscribe) `dropDuplicates: dropDuplicates is not supported after aggregation on a streaming DataFrame/Dataset` after an aggregation.
 * @throws {UserFunctionError} (as an error notification) when a key function or `onLateRows` throws.
 * @throws {BatchSequenceError} (as an error notification) when the batch ids from upstream do not increase.
 * @see dropDuplicatesWithinWatermark
 * @see withWatermark
 */
export function dropDuplicates<T>(keys?: KeySpec<T>, options: DropDuplicatesOptions<T> = {}): MonoTypeOperatorFunction<Batch<T>> {
  return dedupeOperator('dropDuplicates', 'first', keys, options);
}
