import { InvalidOptionError, UserFunctionError, describeValue, isStreamingError } from '../errors/index.js';
import type { Sink } from './Sink.js';

/**
 * Calls `fn` with each batch's output rows and its id, and waits for the
 * promise it returns before the batch counts as done. At least once: after a
 * crash a batch may be given again with the same id, which `fn` can use to
 * write exactly once.
 *
 * Spark: `writeStream.foreachBatch((df, batchId) => …)`.
 *
 * ```text
 * batches  --0-------1-------|
 * fn       --f(r0,0)-f(r1,1)-|
 * ```
 *
 * Supports every output mode; not continuous processing (as in Spark).
 *
 * @example
 * ```ts
 * const sink = forEachBatch<{ word: string }>(async (rows, batchId) => {
 *   console.log(batchId, rows.length);
 * });
 * await sink.addBatch(0, [{ word: 'a' }]);
 * // => 0 1
 * ```
 *
 * @throws {InvalidOptionError} `forEachBatch: fn must be a function; got …`
 * @throws {UserFunctionError} (stops the query) when `fn` throws or rejects.
 * @throws {UnsupportedOperationError} (from `startQuery`) with a continuous trigger: `Data source ForeachBatchSink does not support continuous processing. …`
 */
export function forEachBatch<R>(fn: (rows: readonly R[], batchId: number) => void | Promise<void>): Sink<R> {
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(`forEachBatch: fn must be a function; got ${describeValue(fn)}. Pass (rows, batchId) => { … }.`, 'fn', fn, 'a function');
  }
  return {
    description: 'ForeachBatchSink',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: false,
    async addBatch(batchId, rows) {
      try {
        await fn(rows, batchId);
      } catch (error) {
        throw isStreamingError(error) ? error : new UserFunctionError('forEachBatch', batchId, error);
      }
    },
  };
}
