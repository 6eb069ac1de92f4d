import { TestScheduler } from 'rxjs/testing';
import type { Batch, BatchMetrics, EventTimeMarker } from '../batch/Batch.js';
import { assertMarbles, normaliseForMarbles, type MarbleMatchOptions } from './batchMatch.js';

/**
 * A `TestScheduler` for pipelines of batches. Before comparing, every emitted
 * and expected batch is reduced to its `batchId`, `rows` and `watermark`
 * (plus any metadata field the expected batch names, such as `metrics` given
 * to {@link batch}), so the metadata operators attach — metrics, event-time
 * marker, output mode, aggregation handles, symbol-keyed info — never makes a
 * marble test fail. Rows are compared as multisets unless
 * `rowOrder: 'ordered'`. A mismatch throws an `Error` with a line diff of the
 * frames and, per batch, the missing and unexpected rows.
 *
 * Pass `{ assert }` (or, as before, the function itself) to use your test
 * framework's deep equality on the normalised frames, e.g. with jest
 * `(actual, expected) => expect(actual).toEqual(expected)`.
 *
 * @example
 * ```ts
 * import { count, outputMode, windowTumbling, withWatermark } from 'rxjs-structured-streaming';
 * import { at, batch, createTestScheduler } from 'rxjs-structured-streaming/testing';
 *
 * createTestScheduler().run(({ cold, expectObservable }) => {
 *   const input = cold('a-b|', { a: batch(0, [at(10_000), at(11_000)]), b: batch(1, [at(25_000)]) });
 *   const counts = input.pipe(
 *     withWatermark('ts', '10 seconds'),
 *     windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }),
 *     outputMode('append'),
 *   );
 *   expectObservable(counts).toBe('a-b|', {
 *     a: batch(0, [], 1_000),
 *     b: batch(1, [{ window: { start: 10_000, end: 15_000 }, n: 2 }], 15_000),
 *   });
 * });
 * ```
 */
export function createTestScheduler(options?: MarbleMatchOptions | ((actual: unknown, expected: unknown) => void)): TestScheduler {
  const opts: MarbleMatchOptions = typeof options === 'function' ? { assert: options } : (options ?? {});
  const rowOrder = opts.rowOrder ?? 'any';
  const assert = opts.assert;
  return new TestScheduler((actual: unknown, expected: unknown) => {
    const [a, e] = normaliseForMarbles(actual, expected, rowOrder);
    if (assert !== undefined) assert(a, e);
    else assertMarbles(a, e, rowOrder);
  });
}

/**
 * Builds a batch for a marble value map. As an expected value it is compared
 * by id, rows and watermark; the `extra` fields, when given, are compared too
 * (with {@link createTestScheduler}'s matcher).
 *
 * @example
 * batch(1, [at(25_000)], 15_000); //=> { batchId: 1, rows: [{ ts: 25000 }], watermark: 15000 }
 */
export function batch<T>(
  batchId: number,
  rows: readonly T[],
  watermark = 0,
  extra: { readonly eventTime?: EventTimeMarker; readonly metrics?: BatchMetrics } = {},
): Batch<T> {
  return { batchId, rows, watermark, ...extra };
}

/**
 * A row with event time `ts` (epoch ms) and any other fields.
 *
 * @example
 * at(10_000, { word: 'cat' }); //=> { ts: 10000, word: 'cat' }
 */
export function at(ts: number): { ts: number };
export function at<F extends object>(ts: number, fields: F): { ts: number } & F;
export function at(ts: number, fields: object = {}): object {
  return { ts, ...fields };
}
