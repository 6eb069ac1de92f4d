import { TestScheduler } from 'rxjs/testing';
import type { Batch, BatchMetrics, EventTimeMarker } from '../batch/Batch.js';

/**
 * A `TestScheduler` whose assertion is deep equality (`assertDeepEqual` is
 * given; by default a structural comparison that throws on mismatch, so it
 * works with any test framework; with jest pass
 * `(a, e) => expect(a).toEqual(e)`).
 */
export function createTestScheduler(assertDeepEqual?: (actual: unknown, expected: unknown) => void): TestScheduler {
  return new TestScheduler(assertDeepEqual ?? defaultAssert);
}

function defaultAssert(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual, null, 2);
  const e = JSON.stringify(expected, null, 2);
  if (a !== e) throw new Error(`Marble mismatch.\nExpected:\n${e}\nActual:\n${a}`);
}

/**
 * Builds a batch for a marble value map.
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
