import { EMPTY, NEVER, Subject, map, of, pipe, take, throwError } from 'rxjs';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { assignWindows } from '../../operators/assignWindows.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { avg } from '../../lib/aggregate/avg.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

type Ev = { ts: number; action?: string; user?: string; amount?: number };
const S = 1000;
const byAction = () => groupAggregate<Ev>()({ keyBy: 'action', aggregate: { count: count() } });

describe('groupAggregate', () => {
  it('keeps running totals per key (complete and update modes)', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---|', { a: batch(0, [{ ts: 1, action: 'open' }, { ts: 2, action: 'close' }, { ts: 3, action: 'open' }]), b: batch(1, [{ ts: 4, action: 'open' }]) });
      expectObservable(input.pipe(byAction(), outputMode('complete'), map((b) => b.rows))).toBe('a---b---|', {
        a: [{ action: 'open', count: 2 }, { action: 'close', count: 1 }],
        b: [{ action: 'open', count: 3 }, { action: 'close', count: 1 }],
      });
      expectObservable(input.pipe(byAction(), outputMode('update'), map((b) => b.rows))).toBe('a---b---|', {
        a: [{ action: 'open', count: 2 }, { action: 'close', count: 1 }],
        b: [{ action: 'open', count: 3 }],
      });
      expectSubscriptions(input.subscriptions).toBe(['^-------!', '^-------!']);
    });
  });

  it('reproduces the running shopping totals of notes/003 use case 1 (update mode)', () => {
    streamTest<Ev, unknown>(pipe(groupAggregate<Ev>()({ keyBy: 'user', aggregate: { total: sum('amount') } }), outputMode('update')))
      .addData([{ ts: 0, user: 'Sankar', amount: 200 }])
      .checkNewAnswer([{ user: 'Sankar', total: 200 }])
      .addData([{ ts: 0, user: 'Jade', amount: 800 }])
      .checkNewAnswer([{ user: 'Jade', total: 800 }])
      .addData([{ ts: 0, user: 'Sankar', amount: 300 }])
      .checkNewAnswer([{ user: 'Sankar', total: 500 }])
      .checkStateRows(2)
      .addData([{ ts: 0, user: 'Kun', amount: 100 }])
      .checkNewAnswer([{ user: 'Kun', total: 100 }])
      .checkStateRows(3)
      .stop();
  });

  it('keeps one global row without a key, emitted every batch in complete mode', () => {
    const steps = runBatches(pipe(groupAggregate<Ev>()({ aggregate: { n: count(), mean: avg('amount') } }), outputMode('complete')), [[{ ts: 1, amount: 2 }, { ts: 2, amount: 4 }], []]);
    expect(steps.map((s) => s.rows)).toEqual([[{ n: 2, mean: 3 }], [{ n: 2, mean: 3 }]]);
  });

  it('has a watermark when grouping by the raw watermarked timestamp: late iff t <= W, finalised once W reaches t (EWS group by on raw timestamp)', () => {
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', '10 seconds'), groupAggregate<Ev>()({ keyBy: ['ts'], aggregate: { n: count() } }), outputMode('append')))
      .addData([at(10 * S), at(10 * S), at(12 * S)]) // watermark after: 2s
      .checkNewAnswer([])
      .checkStateRows(2)
      .addData([at(25 * S)]) // watermark after: 15s
      .checkNewAnswer([{ ts: 10 * S, n: 2 }, { ts: 12 * S, n: 1 }])
      .checkStateRows(1)
      .addData([at(15 * S), at(16 * S)]) // 15s <= 15s is late, 16s is not
      .checkDroppedByWatermark(1)
      .checkNewAnswer([])
      .checkStateRows(2)
      .stop();
  });

  it('has a watermark when grouping by a watermarked column given with a format: finalised once W passes the parsed time', () => {
    type F = { ts: string; n?: number };
    const ts = { field: 'ts', format: 'dd-MM-yyyy-HH-mm' } as const;
    const steps = runBatches(pipe(withWatermark<F>(ts, '10 minutes'), groupAggregate<F>()({ keyBy: 'ts', aggregate: { n: count() } }), outputMode('append')), [
      [{ ts: '02-03-2018-10-01' }, { ts: '02-03-2018-10-01' }],
      [{ ts: '02-03-2018-11-30' }],
      [{ ts: '02-03-2018-10-01' }],
    ]);
    expect(steps.map((s) => s.rows)).toEqual([[], [{ ts: '02-03-2018-10-01', n: 2 }], []]);
    expect(steps[2]!.metrics?.stateOperators?.[0]?.numRowsDroppedByWatermark).toBe(1);
  });

  it('has a watermark when grouping by a window column assigned from the watermarked column', () => {
    streamTest<Ev, unknown>(
      pipe(withWatermark<Ev>('ts', '5 seconds'), assignWindows<Ev>({ eventTime: 'ts', size: '10 seconds' }), groupAggregate({ keyBy: ['window', 'action'], aggregate: { n: count() } }), outputMode('append')),
    )
      .addData([at(1 * S, { action: 'open' }), at(2 * S, { action: 'open' }), at(12 * S, { action: 'close' })]) // watermark after: 7s
      .checkNewAnswer([])
      .addData([at(21 * S, { action: 'open' })]) // watermark after: 16s closes [0,10s)
      .checkNewAnswer([{ window: { start: 0, end: 10 * S }, action: 'open', n: 2 }])
      .addData([at(3 * S, { action: 'open' })]) // its window ended at 10s <= 16s: late
      .checkDroppedByWatermark(1)
      .stop();
  });

  it('puts the fields of an object returned by a keyBy function in the row, anything else in `key`', () => {
    const [s1] = runBatches(pipe(groupAggregate<Ev>()({ keyBy: (r) => ({ user: r.user!.toLowerCase() }), aggregate: { n: count() } }), outputMode('complete')), [[{ ts: 0, user: 'ANN' }, { ts: 0, user: 'ann' }]]);
    expect(s1!.rows).toEqual([{ user: 'ann', n: 2 }]);
    const [s2] = runBatches(pipe(groupAggregate<Ev>()({ keyBy: (r) => r.user!.length, aggregate: { n: count() } }), outputMode('complete')), [[{ ts: 0, user: 'ANN' }, { ts: 0, user: 'bo' }]]);
    expect(s2!.rows).toEqual([{ key: 3, n: 1 }, { key: 2, n: 1 }]);
  });

  it('groups by several fields', () => {
    const [step] = runBatches(pipe(groupAggregate<Ev>()({ keyBy: ['user', 'action'], aggregate: { n: count() } }), outputMode('complete')), [
      [{ ts: 0, user: 'a', action: 'x' }, { ts: 0, user: 'a', action: 'y' }, { ts: 0, user: 'a', action: 'x' }],
    ]);
    expect(step!.rows).toEqual([{ user: 'a', action: 'x', n: 2 }, { user: 'a', action: 'y', n: 1 }]);
  });

  it('keeps NaN as a key of its own (apart from null), and groups -0 with 0 under the key 0, for one field and for several', () => {
    type N = { ts: number; a?: number | null; b?: string };
    const rows: N[] = [
      { ts: 0, a: Number.NaN, b: 'x' },
      { ts: 0, a: null, b: 'x' },
      { ts: 0, a: Number.NaN, b: 'x' },
      { ts: 0, b: 'x' },
      { ts: 0, a: -0, b: 'x' },
      { ts: 0, a: 0, b: 'x' },
    ];
    const [many] = runBatches(pipe(groupAggregate<N>()({ keyBy: ['a', 'b'], aggregate: { n: count() } }), outputMode('complete')), [rows]);
    expect(many!.rows).toEqual([{ a: Number.NaN, b: 'x', n: 2 }, { a: null, b: 'x', n: 2 }, { a: 0, b: 'x', n: 2 }]);
    expect(Object.is((many!.rows[2] as { a: unknown }).a, 0)).toBe(true);
    const [one] = runBatches(pipe(groupAggregate<N>()({ keyBy: 'a', aggregate: { n: count() } }), outputMode('complete')), [rows]);
    expect(one!.rows).toEqual([{ a: Number.NaN, n: 2 }, { a: null, n: 2 }, { a: 0, n: 2 }]);
    expect(Object.is((one!.rows[2] as { a: unknown }).a, 0)).toBe(true);
    const [byFn] = runBatches(pipe(groupAggregate<N>()({ keyBy: (r) => r.a, aggregate: { n: count() } }), outputMode('complete')), [rows]);
    expect(byFn!.rows.map((r) => (r as { key: unknown }).key)).toEqual([Number.NaN, null, 0]);
  });

  it('groups Dates by time, apart from their ISO text, and object keys by value', () => {
    type D = { ts: number; at: unknown; b: string };
    const iso = new Date(5).toISOString();
    const [step] = runBatches(pipe(groupAggregate<D>()({ keyBy: ['at', 'b'], aggregate: { n: count() } }), outputMode('complete')), [
      [{ ts: 0, at: new Date(5), b: 'x' }, { ts: 0, at: iso, b: 'x' }, { ts: 0, at: new Date(5), b: 'x' }, { ts: 0, at: { p: 1, q: 2 }, b: 'x' }, { ts: 0, at: { q: 2, p: 1 }, b: 'x' }],
    ]);
    expect(step!.rows).toEqual([{ at: new Date(5), b: 'x', n: 2 }, { at: iso, b: 'x', n: 1 }, { at: { p: 1, q: 2 }, b: 'x', n: 2 }]);
  });

  it('passes empty batches through; state grows without a watermark', () => {
    const steps = runBatches(pipe(byAction(), outputMode('update')), [[], [{ ts: 0, action: 'a' }], [], [{ ts: 0, action: 'b' }]]);
    expect(steps.map((s) => [s.batchId, s.rows.length, s.metrics!.stateOperators![0]!.numRowsTotal])).toEqual([[0, 0, 0], [1, 1, 1], [2, 0, 1], [3, 1, 2]]);
  });

  it('does not mutate its input and keeps state per subscription', () => {
    const input: Batch<Ev> = Object.freeze({ batchId: 0, rows: Object.freeze([Object.freeze({ ts: 0, action: 'a' })]), watermark: 0 });
    let rows: readonly unknown[] = [];
    of(input).pipe(byAction(), outputMode('complete')).subscribe((b) => (rows = b.rows));
    expect(rows).toEqual([{ action: 'a', count: 1 }]);
    const subject = new Subject<Batch<Ev>>();
    const out$ = subject.pipe(byAction(), outputMode('complete'), map((b) => b.rows));
    const a: unknown[] = [];
    const b: unknown[] = [];
    out$.subscribe((x) => a.push(x));
    subject.next(batch(0, [{ ts: 0, action: 'a' }]));
    out$.subscribe((x) => b.push(x));
    subject.next(batch(1, [{ ts: 0, action: 'a' }]));
    expect(a[1]).toEqual([{ action: 'a', count: 2 }]);
    expect(b[0]).toEqual([{ action: 'a', count: 1 }]);
  });

  it('completes, errors, unsubscribes and stops a firehose like any operator', () => {
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Batch<never>>('|').pipe(byAction())).toBe('|');
      expectObservable(cold('a#', { a: batch(0, []) }).pipe(byAction(), map((b) => b.batchId))).toBe('a#', { a: 0 });
      const source = hot('-a-b-', { a: batch(0, [{ ...at(1), action: 'open' }]), b: batch(1, [{ ...at(2), action: 'open' }]) });
      expectObservable(source.pipe(byAction(), map((b) => b.batchId)), '^-!').toBe('-a', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    let done = false;
    EMPTY.pipe(byAction()).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    NEVER.pipe(byAction()).subscribe().unsubscribe();
    let error: unknown;
    throwError(() => new Error('x')).pipe(byAction()).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('x');
    let emitted = 0;
    fromBatches((function* () { for (;;) { emitted++; yield [{ ...at(emitted), action: 'open' }]; } })()).pipe(byAction(), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  it('wraps a throwing keyBy in a UserFunctionError', () => {
    let error: unknown;
    fromBatches([[at(1)]]).pipe(groupAggregate<Ev>()({ keyBy: () => { throw new Error('k'); }, aggregate: { n: count() } })).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as Error).message).toBe('groupAggregate: a user function threw while processing batch 0: Error: k');
  });

  describe('misconfiguration', () => {
    it('returns itself when called with no arguments (groupAggregate<Row>()) and rejects undefined options', () => {
      expect(groupAggregate<Ev>()).toBe(groupAggregate);
      expect(() => groupAggregate(undefined as never)).toThrow('groupAggregate: aggregate must be a non-empty record of aggregators; got undefined.');
    });

    it('rejects append mode without a watermarked key, with Spark wording', () => {
      let error: unknown;
      fromBatches([[at(1, { action: 'a' })]]).pipe(withWatermark('ts', 0), byAction(), outputMode('append')).subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('outputMode: Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark');
    });

    it('rejects bad aggregate and key options', () => {
      expect(() => groupAggregate<Ev>()({ keyBy: 'action', aggregate: undefined as unknown as {} })).toThrow('groupAggregate: aggregate must be a non-empty record of aggregators; got undefined.');
      expect(() => groupAggregate<Ev>()({ keyBy: 'action', aggregate: { action: count() } })).toThrow(InvalidOptionError);
      expect(() => groupAggregate<Ev>()({ keyBy: {} as unknown as 'action', aggregate: { n: count() } })).toThrow('groupAggregate: keyBy must be a field name');
    });
  });
});
