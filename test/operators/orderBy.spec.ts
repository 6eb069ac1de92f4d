import { EMPTY, NEVER, map, pipe, take, throwError, type Observable, type OperatorFunction } from 'rxjs';
import { orderBy } from '../../operators/orderBy.js';
import { outputMode } from '../../operators/outputMode.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { count } from '../../lib/aggregate/count.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { InvalidOptionError, InvalidValueError, UnsupportedOperationError } from '../../lib/errors/index.js';
import { runBatches } from '../../lib/testing/index.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Ev = { ts: number; action: string };
const e = (action: string): Ev => ({ ts: 0, action });
const counts = () => groupAggregate<Ev>()({ keyBy: 'action', aggregate: { count: count() } });
const failure = (run: () => Observable<unknown>): unknown => {
  let error: unknown;
  run().subscribe({ error: (err: unknown) => (error = err) });
  return error;
};
const completeBatch = <R>(batchId: number, rows: R[]) => ({ ...batch(batchId, rows), outputMode: 'complete' as const });

describe('orderBy', () => {
  it('sorts each complete-mode result table', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---|', { a: batch(0, [e('open'), e('open'), e('open'), e('close')]), b: batch(1, [e('close'), e('close'), e('close'), e('close'), e('open')]) });
      expectObservable(input.pipe(counts(), outputMode('complete'), orderBy({ by: 'count', desc: true }), map((b) => b.rows))).toBe('a---b---|', {
        a: [{ action: 'open', count: 3 }, { action: 'close', count: 1 }],
        b: [{ action: 'close', count: 5 }, { action: 'open', count: 4 }],
      });
      expectSubscriptions(input.subscriptions).toBe('^-------!');
    });
  });

  it('sorts by several keys, functions and comparators; nulls first ascending and last descending', () => {
    type R = { a: number | null; b: string };
    const rows: R[] = [{ a: 2, b: 'x' }, { a: null, b: 'y' }, { a: 1, b: 'z' }, { a: 2, b: 'a' }];
    const run = (...specs: Parameters<typeof orderBy<R>>) => fromBatches([rows]).pipe(map((b) => ({ ...b, outputMode: 'complete' as const })), orderBy<R>(...specs));
    const collect = (o: Observable<Batch<R>>) => {
      let out: readonly R[] = [];
      o.subscribe((b) => (out = b.rows));
      return out.map((r) => `${r.a}${r.b}`);
    };
    expect(collect(run('a', 'b'))).toEqual(['nully', '1z', '2a', '2x']);
    expect(collect(run({ by: 'a', desc: true }, 'b'))).toEqual(['2a', '2x', '1z', 'nully']);
    expect(collect(run({ by: (r) => r.b }))).toEqual(['2a', '2x', 'nully', '1z']);
    expect(collect(run((x, y) => x.b.localeCompare(y.b) * -1))).toEqual(['1z', 'nully', '2x', '2a']);
  });

  it('refuses a sort column holding values of two types (a column has one type), naming the column, the values and the batch', () => {
    type M = { v: unknown };
    const sorted = (rows: M[], ...specs: Parameters<typeof orderBy<M>>) => fromBatches([[]]).pipe(map(() => completeBatch(3, rows)), orderBy<M>(...specs));
    const error = failure(() => sorted([{ v: 10 }, { v: '9' }, { v: 2 }], 'v'));
    expect(error).toBeInstanceOf(InvalidValueError);
    expect((error as InvalidValueError).batchId).toBe(3);
    expect((error as Error).message).toMatch(/^orderBy\("v"\): values of two types in one column: .* \(a number\) and .* \(a string\)|^orderBy\("v"\): values of two types in one column: .* \(a string\) and .* \(a number\)/);
    expect((error as Error).message).toContain(' in batch 3.');
    expect(failure(() => sorted([{ v: new Date(1) }, { v: 5 }], { by: (r) => r.v }))).toBeInstanceOf(InvalidValueError);
    expect(failure(() => sorted([{ v: [1] }, { v: { a: 1 } }], 'v'))).toBeInstanceOf(InvalidValueError);
    // Nulls are not a type of their own; arrays sort element by element.
    let out: readonly M[] = [];
    sorted([{ v: [10] }, { v: null }, { v: [9] }, { v: [9, 0] }], 'v').subscribe((b) => (out = b.rows));
    expect(out.map((r) => r.v)).toEqual([null, [9], [9, 0], [10]]);
  });

  it('sorts windows by start', () => {
    const steps = runBatches(pipe(windowTumbling<Ev>()({ eventTime: 'ts', size: 10, aggregate: { n: count() } }), outputMode('complete'), orderBy({ by: 'window', desc: true })), [[{ ts: 1, action: 'a' }, { ts: 25, action: 'a' }]]);
    expect(steps[0]!.rows.map((r) => r.window.start)).toEqual([20, 0]);
  });

  it('passes empty tables, keeps ids, does not mutate and completes/errors/unsubscribes like any operator', () => {
    const input = Object.freeze(completeBatch(0, [Object.freeze({ x: 2 }), Object.freeze({ x: 1 })]));
    const out: Batch<{ x: number }>[] = [];
    fromBatches([[]]).pipe(map(() => input), orderBy<{ x: number }>('x')).subscribe((b) => out.push(b));
    expect(out[0]!.rows).toEqual([{ x: 1 }, { x: 2 }]);
    expect(input.rows).toEqual([{ x: 2 }, { x: 1 }]);
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<never>('|').pipe(orderBy('x'))).toBe('|');
      expectObservable(cold('a#', { a: completeBatch(3, []) }).pipe(orderBy('x'), map((b) => b.batchId))).toBe('a#', { a: 3 });
      const source = hot('-a-b-', { a: completeBatch(0, [{ x: 1 }]), b: completeBatch(1, [{ x: 1 }]) });
      expectObservable(source.pipe(orderBy('x'), map((b) => b.batchId)), '^-!').toBe('-a', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    let done = false;
    EMPTY.pipe(orderBy('x')).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    NEVER.pipe(orderBy('x')).subscribe().unsubscribe();
    expect((failure(() => throwError(() => new Error('x')).pipe(orderBy('x'))) as Error).message).toBe('x');
    let emitted = 0;
    fromBatches((function* () { for (;;) { emitted++; yield [e('a')]; } })()).pipe(counts(), outputMode('complete'), orderBy('count'), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  describe('misconfiguration', () => {
    const sortError = 'orderBy: Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode';

    it('rejects sorting outside a complete-mode aggregation, on subscribe and with Spark wording', () => {
      const untyped = orderBy<Ev>('action') as unknown as OperatorFunction<Batch<unknown>, Batch<unknown>>;
      const plain = failure(() => fromBatches([[e('a')]]).pipe(withWatermark('ts', 0), untyped));
      expect(plain).toBeInstanceOf(UnsupportedOperationError);
      expect((plain as Error).message).toBe(sortError);
      const update = failure(() => fromBatches([[e('a')]]).pipe(counts(), outputMode('update'), untyped));
      expect((update as Error).message).toBe(sortError);
      const hidden = failure(() => fromBatches([[e('a')]]).pipe(map((b) => b), untyped));
      expect((hidden as Error).message).toBe(sortError);
    });

    it('rejects no or bad sort keys', () => {
      expect(() => orderBy()).toThrow(InvalidOptionError);
      expect(() => orderBy()).toThrow('orderBy: at least one sort key is required; got none.');
      expect(() => orderBy(42 as unknown as 'x')).toThrow('orderBy: a sort key must be a field name, { by, desc? } or a comparator; got 42.');
    });
  });
});
