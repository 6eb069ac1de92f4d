import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from './Batch.js';

/**
 * Emits the rows of each batch one by one, in order: the way out of the batch
 * world into ordinary per-row RxJS code (UI updates, logging).
 *
 * @example
 * fromBatches([[1, 2], [3]]).pipe(flattenRows()).subscribe(console.log);
 * // => 1
 * // => 2
 * // => 3
 */
export function flattenRows<T>(): OperatorFunction<Batch<T>, T> {
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next: (batch) => {
          for (const row of batch.rows) {
            if (subscriber.closed) return;
            subscriber.next(row);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
