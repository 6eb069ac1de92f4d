import { EMPTY, NEVER, map, pipe, take, throwError, type Observable, type OperatorFunction } from 'rxjs';
import { limit } from '../../operators/limit.js';
import { orderBy } from '../../operators/orderBy.js';
import { outputMode } from '../../operators/outputMode.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { count } from '../../lib/aggregate/count.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError } from '../../lib/errors/index.js';
import { runBatches } from '../../lib/testing/index.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Ev = { ts: number; action: string };
const e = (action: string): Ev => ({ ts: 0, action });
const failure = (run: () => Observable<unknown>): unknown => {
  let error: unknown;
  run().subscribe({ error: (err: unknown) => (error = err) });
  return error;
};

describe('limit', () => {
  it('keeps the first n rows of the stream outside complete mode', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---c---|', { a: batch(0, [1, 2]), b: batch(1, [3, 4]), c: batch(2, [5]) });
      expectObservable(input.pipe(limit(3))).toBe('a---b---c---|', { a: batch(0, [1, 2]), b: batch(1, [3]), c: batch(2, []) });
      expectSubscriptions(input.subscriptions).toBe('^-----------!');
    });
  });

  it('keeps the first n rows of each table in complete mode (top-n with orderBy)', () => {
    const steps = runBatches(
      pipe(groupAggregate<Ev>()({ keyBy: 'action', aggregate: { count: count() } }), outputMode('complete'), orderBy({ by: 'count', desc: true }), limit(1)),
      [[e('a'), e('b'), e('b')], [e('a'), e('a')]],
    );
    expect(steps.map((s) => s.rows)).toEqual([[{ action: 'b', count: 2 }], [{ action: 'a', count: 3 }]]);
  });

  it('counts across batches in append mode after an aggregation', () => {
    const steps = runBatches(pipe(map((b: Batch<number>) => ({ ...b, outputMode: 'append' as const })), limit<number>(2)), [[1], [2, 3], [4]]);
    expect(steps.map((s) => s.rows)).toEqual([[1], [2], []]);
  });

  it('passes empty batches, does not mutate, keeps state per subscription, completes/errors/unsubscribes', () => {
    const input = Object.freeze(batch(0, Object.freeze([1, 2, 3]) as number[]));
    let out: readonly number[] = [];
    fromBatches([[]]).pipe(map(() => input), limit<number>(2)).subscribe((b) => (out = b.rows));
    expect(out).toEqual([1, 2]);
    expect(input.rows).toEqual([1, 2, 3]);
    const op$ = fromBatches([[1, 2], [3]]).pipe(limit<number>(2), map((b) => b.rows));
    const a: unknown[] = [];
    op$.subscribe((x) => a.push(x));
    op$.subscribe((x) => a.push(x));
    expect(a).toEqual([[1, 2], [], [1, 2], []]);
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Batch<never>>('|').pipe(limit(1))).toBe('|');
      expectObservable(cold('a#', { a: batch(0, []) }).pipe(limit(1), map((b) => b.batchId))).toBe('a#', { a: 0 });
      const source = hot('-a-b-', { a: batch(0, [1]), b: batch(1, [2]) });
      expectObservable(source.pipe(limit(5), map((b) => b.batchId)), '^-!').toBe('-a', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    let done = false;
    EMPTY.pipe(limit(1)).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    NEVER.pipe(limit(1)).subscribe().unsubscribe();
    expect((failure(() => throwError(() => new Error('x')).pipe(limit(1))) as Error).message).toBe('x');
    let emitted = 0;
    fromBatches((function* () { for (;;) { emitted++; yield [emitted]; } })()).pipe(limit(10), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  describe('misconfiguration', () => {
    it('rejects limit in update mode, on subscribe and at the first batch, with Spark wording', () => {
      const untyped = limit(1) as unknown as OperatorFunction<Batch<unknown>, Batch<unknown>>;
      const error = failure(() => fromBatches([[e('a')]]).pipe(groupAggregate<Ev>()({ keyBy: 'action', aggregate: { n: count() } }), outputMode('update'), untyped));
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('limit: Limits are not supported on streaming DataFrames/Datasets in Update output mode');
      const hidden = failure(() => fromBatches([[e('a')]]).pipe(groupAggregate<Ev>()({ keyBy: 'action', aggregate: { n: count() } }), outputMode('update'), map((b) => b), untyped));
      expect((hidden as Error).message).toBe('limit: Limits are not supported on streaming DataFrames/Datasets in Update output mode');
    });

    it('rejects a negative or fractional n', () => {
      expect(() => limit(-1)).toThrow(InvalidOptionError);
      expect(() => limit(1.5)).toThrow('limit: n must be a non-negative integer; got 1.5. Use e.g. limit(10).');
    });
  });
});
