import { InvalidOptionError, UserFunctionError, describeValue, isStreamingError } from '../errors/index.js';
import type { Sink } from './Sink.js';

/** A writer for {@link forEach}, as Spark's `ForeachWriter`: `open` once per batch (return `false` to skip it), `process` per row, `close` at the end. */
export interface ForEachWriter<R> {
  open?(partitionId: number, batchId: number): boolean | Promise<boolean>;
  process(row: R): void | Promise<void>;
  /** Called after the batch, with the error that ended it early, or `null`. */
  close?(error: unknown): void | Promise<void>;
}

/**
 * Calls a function (or a {@link ForEachWriter}) for every output row, in
 * order, waiting for each returned promise. At least once: a replayed batch
 * is given again (a writer's `open(partitionId, batchId)` may skip it).
 *
 * Spark: `writeStream.foreach(writer)`.
 *
 * ```text
 * batches  --0(a,b)--1(c)--|
 * fn       --f(a)f(b)--f(c)|
 * ```
 *
 * Supports every output mode and continuous processing (rows are handed over
 * as soon as they are produced).
 *
 * @example
 * ```ts
 * const sink = forEach<{ word: string }>((row, batchId) => console.log(batchId, row.word));
 * await sink.addBatch(0, [{ word: 'a' }, { word: 'b' }]);
 * // => 0 a
 * // => 0 b
 * ```
 *
 * @throws {InvalidOptionError} `forEach: writer must be a function or an object with process(row); got …`
 * @throws {UserFunctionError} (stops the query) when the function or writer throws.
 */
export function forEach<R>(writer: ((row: R, batchId: number) => void | Promise<void>) | ForEachWriter<R>): Sink<R> {
  const isFn = typeof writer === 'function';
  if (!isFn && (typeof writer !== 'object' || writer === null || typeof writer.process !== 'function')) {
    throw new InvalidOptionError(`forEach: writer must be a function or an object with process(row); got ${describeValue(writer)}. Pass (row, batchId) => { … }.`, 'writer', writer, 'a function or a ForEachWriter');
  }
  const write = async (batchId: number, rows: readonly R[]): Promise<void> => {
    if (isFn) {
      for (const row of rows) {
        try {
          await writer(row, batchId);
        } catch (error) {
          throw isStreamingError(error) ? error : new UserFunctionError('forEach', batchId, error);
        }
      }
      return;
    }
    let failure: unknown = null;
    try {
      // As Spark: when open returns false the rows are skipped, but close is still called.
      if (writer.open === undefined || (await writer.open(0, batchId))) for (const row of rows) await writer.process(row);
    } catch (error) {
      failure = error;
    }
    try {
      await writer.close?.(failure);
    } catch (error) {
      if (failure === null) failure = error;
    }
    if (failure !== null) throw isStreamingError(failure) ? failure : new UserFunctionError('forEach', batchId, failure);
  };
  return {
    description: 'ForeachSink',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: false,
    addBatch: write,
    addRows: write,
  };
}
