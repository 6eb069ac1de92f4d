import { Subscriber, type Observer } from 'rxjs';
import { BatchSequenceError, UserFunctionError, isStreamingError } from '../errors/index.js';
import type { Batch } from '../batch/Batch.js';

/** Wraps anything thrown while an operator handles a batch: our own errors pass through, others become a {@link UserFunctionError}. */
export function wrapError(operator: string, batchId: number, error: unknown): Error {
  if (isStreamingError(error)) return error;
  return new UserFunctionError(operator, batchId, error);
}

/** Options for {@link batchSubscriber}. */
export interface BatchSubscriberOptions {
  /** Runs when the source completes, before the completion is forwarded; may emit a last batch. */
  readonly onComplete?: () => void;
  /** Accept equal or decreasing batch ids (for operators that renumber). @defaultValue `false` */
  readonly allowAnyBatchId?: boolean;
}

/**
 * The observer an operator subscribes to its source with (our counterpart of
 * RxJS's internal `OperatorSubscriber`): it calls `onBatch` once per batch,
 * checks that batch ids increase, forwards `error` and `complete`, and turns
 * anything the callback throws into an error notification — our own errors
 * unchanged, anything else wrapped in a {@link UserFunctionError} naming the
 * operator and batch. After an error it ignores further batches.
 *
 * The returned observer is a `Subscriber` linked to `destination`: when the
 * consumer unsubscribes (e.g. `take(n)` has enough), it is closed at once, so a
 * synchronous source emitting during `subscribe` (a firehose) stops.
 */
export function batchSubscriber<T>(
  destination: Subscriber<unknown>,
  operator: string,
  onBatch: (batch: Batch<T>) => void,
  options: BatchSubscriberOptions = {},
): Observer<Batch<T>> {
  let lastBatchId = Number.NEGATIVE_INFINITY;
  let failed = false;
  const fail = (batchId: number, error: unknown): void => {
    failed = true;
    destination.error(wrapError(operator, batchId, error));
  };
  const observer: Observer<Batch<T>> = {
    next(batch) {
      if (failed) return;
      if (!options.allowAnyBatchId && batch.batchId <= lastBatchId) {
        fail(batch.batchId, new BatchSequenceError(operator, lastBatchId, batch.batchId));
        return;
      }
      lastBatchId = batch.batchId;
      try {
        onBatch(batch);
      } catch (error) {
        fail(batch.batchId, error);
      }
    },
    error(error) {
      if (failed) return;
      failed = true;
      destination.error(error);
    },
    complete() {
      if (failed) return;
      if (options.onComplete !== undefined) {
        try {
          options.onComplete();
        } catch (error) {
          fail(lastBatchId, error);
          return;
        }
      }
      destination.complete();
    },
  };
  // eslint-disable-next-line deprecation/deprecation -- the public way in RxJS 7 to link an inner subscriber to its destination
  const inner = new Subscriber<Batch<T>>(observer);
  destination.add(inner);
  return inner;
}
