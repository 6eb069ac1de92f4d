import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from './Batch.js';

/** Options for {@link toBatches}. */
export interface ToBatchesOptions {
  /** The id of the first batch. @defaultValue `0` */
  readonly firstBatchId?: number;
}

/**
 * Turns each emitted array of rows into a {@link Batch} with ids from 0 and watermark 0
 * (a `withWatermark` downstream sets the watermark).
 *
 * @example
 * clicks$.pipe(bufferTime(1000), toBatches(), withWatermark('ts', '10 seconds'));
 */
export function toBatches<T>(options: ToBatchesOptions = {}): OperatorFunction<readonly T[], Batch<T>> {
  const { firstBatchId = 0 } = options;
  return (source) =>
    new Observable<Batch<T>>((subscriber) => {
      let batchId = firstBatchId;
      return source.subscribe({
        next: (rows) => subscriber.next({ batchId: batchId++, rows, watermark: 0 }),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
