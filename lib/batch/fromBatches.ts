import { sourceNode } from '../internal/pipeline.js';
import { Observable, type SchedulerLike } from 'rxjs';
import type { Batch } from './Batch.js';

/**
 * Emits one {@link Batch} per array, with batch ids from 0 and watermark 0, then completes.
 *
 * With a `scheduler`, each batch is emitted in its own scheduled action (useful
 * to interleave two inputs in virtual time); without one, all are emitted
 * synchronously on subscribe.
 *
 * @example
 * fromBatches([[{ ts: 1000 }], [], [{ ts: 5000 }]]).subscribe((b) => console.log(b.batchId, b.rows.length));
 * // => 0 1
 * // => 1 0
 * // => 2 1
 */
export function fromBatches<T>(batches: Iterable<readonly T[]>, scheduler?: SchedulerLike): Observable<Batch<T>> {
  return sourceNode(new Observable<Batch<T>>((subscriber) => {
    const iterator = batches[Symbol.iterator]();
    let batchId = 0;
    const emitNext = (): boolean => {
      const step = iterator.next();
      if (step.done === true) {
        subscriber.complete();
        return false;
      }
      subscriber.next({ batchId: batchId++, rows: step.value, watermark: 0 });
      return !subscriber.closed;
    };
    if (scheduler === undefined) {
      while (emitNext());
      return undefined;
    }
    return scheduler.schedule(function loop() {
      if (emitNext()) this.schedule();
    });
  }));
}
