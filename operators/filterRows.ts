import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, describeValue } from '../lib/errors/index.js';
import { batchSubscriber } from '../lib/internal/batchSubscriber.js';
import { Stage, infoOfBatch, stamp } from '../lib/internal/pipeline.js';

/**
 * Keeps the rows of each batch for which `predicate` is true, keeping the
 * batch itself (id, watermark, metrics, pipeline information): an empty
 * batch still flows, as every stateful operator downstream needs.
 *
 * Spark: `Dataset.filter(…)` / `where(…)` on a streaming Dataset.
 *
 * ```text
 * input    a-------b-------|     a = #0 [1, 2, 3]   b = #1 [4]
 *          filterRows((n) => n % 2 === 0)
 * output   a'------b'------|     a' = #0 [2]   b' = #1 [4]   (same ids and watermarks)
 * ```
 *
 * Unlike RxJS `filter`, which would drop whole batches (and break the
 * one-batch-per-batch contract of a query), this filters rows.
 *
 * @example
 * ```ts
 * fromBatches([[{ n: 1 }, { n: 2 }], [{ n: 3 }]])
 *   .pipe(filterRows((r) => r.n > 1))
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 [{ n: 2 }]
 * // => 1 [{ n: 3 }]
 * ```
 *
 * @param predicate Tested once per row.
 * @throws {InvalidOptionError} `filterRows: predicate must be a function of the row; got <value>.`
 * @see mapRows
 */
export function filterRows<T>(predicate: (row: T, index: number) => boolean): MonoTypeOperatorFunction<Batch<T>> {
  const op = 'filterRows';
  if (typeof predicate !== 'function') throw new InvalidOptionError(`${op}: predicate must be a function of the row; got ${describeValue(predicate)}.`, 'predicate', predicate, 'a function');
  return (source) => {
    const stage = new Stage(op, [source], ([input]) => input!);
    const output = new Observable<Batch<T>>((subscriber) =>
      source.subscribe(
        batchSubscriber<T>(subscriber, op, (batch) => {
          const rows = batch.rows;
          const kept: T[] = [];
          for (let i = 0; i < rows.length; i++) if (predicate(rows[i]!, i)) kept.push(rows[i]!);
          subscriber.next(stamp({ ...batch, rows: kept }, stage.derive([infoOfBatch(batch)])));
        }),
      ),
    );
    return stage.attach(output);
  };
}
