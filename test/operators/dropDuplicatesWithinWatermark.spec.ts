import { Observable, Subject, map, of, take, throwError, type OperatorFunction } from 'rxjs';
import { dropDuplicatesWithinWatermark } from '../../operators/dropDuplicatesWithinWatermark.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { BatchSequenceError, ColumnNotFoundError, InvalidOptionError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import { withPlan } from '../helpers/plan.js';
import type { LateRows } from '../../lib/types.js';
import { streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Ev = { id: string; ts: number };
const ev = (id: string, s: number): Ev => ({ id, ts: s * 1000 });
const view = <T>(): OperatorFunction<Batch<T>, { batchId: number; rows: readonly T[]; watermark: number }> => map((b) => ({ batchId: b.batchId, rows: b.rows, watermark: b.watermark }));
const marker = (delayMs: number) => ({ field: 'ts', isWindow: false, delayMs });
const dws = (delay: string) => (s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', delay), dropDuplicatesWithinWatermark<Ev>('id'));

describe('dropDuplicatesWithinWatermark', () => {
  it('drops duplicates while the first row is within the delay, then forgets the key', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---c---d---e---|', {
        a: batch(0, [ev('a', 17)]),
        b: batch(1, [ev('a', 16)]),
        c: batch(2, [ev('a', 13)]),
        d: batch(3, [ev('b', 22), ev('c', 21)]),
        e: batch(4, [ev('a', 21)]),
      });
      expectObservable(input.pipe(dws('2 seconds'), view())).toBe('a---b---c---d---e---|', {
        a: { batchId: 0, rows: [ev('a', 17)], watermark: 15_000 },
        b: { batchId: 1, rows: [], watermark: 15_000 },
        c: { batchId: 2, rows: [], watermark: 15_000 },
        d: { batchId: 3, rows: [ev('b', 22), ev('c', 21)], watermark: 20_000 },
        e: { batchId: 4, rows: [ev('a', 21)], watermark: 20_000 },
      });
      expectSubscriptions(input.subscriptions).toBe('^-------------------!');
    });
  });

  describe('Spark StreamingDeduplicationWithinWatermarkSuite', () => {
    it('deduplicate with subset of columns which event time column is not in subset', () => {
      const late: LateRows<Ev>[] = [];
      const test = streamTest((s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', '2 seconds'), dropDuplicatesWithinWatermark<Ev>('id', { onLateRows: (l) => late.push(l) })));
      const updated = () => test.stateOperators()[0]!.numRowsUpdated;
      test.addData([ev('a', 17)]).checkNewAnswer([ev('a', 17)]).checkWatermark(15_000).checkStateRows(1); // expires at 19
      expect(updated()).toBe(1);
      test.addData([ev('a', 16)]).checkNewAnswer([]).checkStateRows(1); // watermark does not advance
      expect(updated()).toBe(0);
      test.addData([ev('a', 13)]).checkNewAnswer([]).checkStateRows(1).checkDroppedByWatermark(1); // 13 <= 15: late
      test.addData([ev('b', 22), ev('c', 21)]).checkNewAnswer([ev('b', 22), ev('c', 21)]).checkWatermark(20_000).checkStateRows(2); // a (19) evicted
      expect(test.stateOperators()[0]).toMatchObject({ numRowsUpdated: 2, numRowsRemoved: 1 });
      test.addData([ev('a', 21)]).checkNewAnswer([ev('a', 21)]).checkStateRows(3); // a is new again, expires at 23
      test.addData([ev('d', 25)]).checkNewAnswer([ev('d', 25)]).checkWatermark(23_000).checkStateRows(2); // a (23), c (23) evicted
      test.stop();
      expect(late.map((l) => [l.batchId, l.watermark, l.rows])).toEqual([[2, 15_000, [ev('a', 13)]]]);
    });

    it('deduplicate with all columns with event time column', () => {
      type V = { eventTime: number };
      const v = (s: number): V => ({ eventTime: s * 1000 });
      const test = streamTest((s: Observable<Batch<V>>) => s.pipe(withWatermark<V>('eventTime', '10 seconds'), dropDuplicatesWithinWatermark<V>()));
      const tens = [10, 11, 12, 13, 14, 15];
      test.addData([1, 2, 3, 4, 5].flatMap(() => tens.map(v))).checkNewAnswer(tens.map(v)).checkStateRows(6); // wm 5 s
      test.addData([13, 14, 15, 16, 17].map(v)).checkNewAnswer([v(16), v(17)]).checkStateRows(8); // wm 7 s
      test.addData([v(5)]).checkNewAnswer([]).checkStateRows(8).checkDroppedByWatermark(1);
      test.addData([v(35)]).checkNewAnswer([v(35)]).checkWatermark(25_000).checkStateRows(3); // expiries <= 25 s go
      test.addData([v(55)]).checkNewAnswer([v(55)]).checkWatermark(45_000).checkStateRows(1);
      test.stop();
    });
  });

  it('does not extend a key\'s expiry with later duplicates', () => {
    streamTest(dws('10 seconds'))
      .addData([ev('k', 20)]) // expires at 30; wm 10
      .addData([ev('k', 29), ev('x', 38)]) // duplicate; wm 28
      .checkNewAnswer([ev('x', 38)])
      .addData([ev('y', 40)]) // wm 30: k expires (30 <= 30, inclusive)
      .checkStateRows(2)
      .addData([ev('k', 35)])
      .checkNewAnswer([ev('k', 35)])
      .stop();
  });

  it('evicts in the same batch a key whose expiry the batch\'s own watermark already passed', () => {
    const out: Batch<Ev>[] = [];
    of(batch<Ev>(0, [ev('a', 1), ev('b', 50)], 40_000, { eventTime: marker(2000) })).pipe(dropDuplicatesWithinWatermark<Ev>('id')).subscribe((b) => out.push(b));
    expect(out[0]!.rows).toEqual([ev('a', 1), ev('b', 50)]);
    expect(out[0]!.metrics?.stateOperators?.[0]).toMatchObject({ numRowsTotal: 1, numRowsUpdated: 2, numRowsRemoved: 1 });
  });

  describe('stream contract', () => {
    it('passes an empty batch through with its id and watermark', () => {
      const out: Batch<Ev>[] = [];
      of(batch<Ev>(5, [], 9, { eventTime: marker(0) })).pipe(dropDuplicatesWithinWatermark<Ev>()).subscribe((b) => out.push(b));
      expect(out[0]).toMatchObject({ batchId: 5, rows: [], watermark: 9 });
    });

    it('completes, never completes, unsubscribes', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = marker(0);
        expectObservable(cold<Batch<Ev>>('--|').pipe(dropDuplicatesWithinWatermark())).toBe('--|');
        expectObservable(cold('-a-', { a: batch(0, [ev('a', 1)], 0, { eventTime: m }) }).pipe(dropDuplicatesWithinWatermark<Ev>('id'), view())).toBe('-a-', { a: { batchId: 0, rows: [ev('a', 1)], watermark: 0 } });
        const input = cold('a-b-c', { a: batch(0, [ev('a', 1)], 0, { eventTime: m }), b: batch(1, [ev('b', 2)], 0, { eventTime: m }), c: batch(2, [ev('c', 3)], 0, { eventTime: m }) });
        expectObservable(input.pipe(dropDuplicatesWithinWatermark<Ev>('id'), map((b) => b.rows.length)), '^--!').toBe('a-a', { a: 1 });
        expectSubscriptions(input.subscriptions).toBe('^--!');
      });
    });

    it('ignores the rest of a synchronous firehose once take has enough', () => {
      let keyed = 0;
      const firehose = new Observable<Batch<Ev>>((subscriber) => {
        for (let i = 0; i < 100 && !subscriber.closed; i++) subscriber.next(batch(i, [ev(String(i), i + 1)], 0, { eventTime: marker(0) }));
      });
      const got: number[] = [];
      firehose.pipe(dropDuplicatesWithinWatermark<Ev>((r) => (keyed++, r.id)), take(2)).subscribe((b) => got.push(b.batchId));
      expect(got).toEqual([0, 1]);
      expect(keyed).toBe(2);
    });

    it('forwards source errors, rejects decreasing batch ids and wraps a throwing key function', () => {
      const errors: unknown[] = [];
      throwError(() => new Error('boom')).pipe(dropDuplicatesWithinWatermark()).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(1, [ev('a', 1)], 0, { eventTime: marker(0) }), batch(0, [ev('b', 1)], 0, { eventTime: marker(0) })).pipe(dropDuplicatesWithinWatermark<Ev>()).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(0, [ev('a', 1)], 0, { eventTime: marker(0) })).pipe(dropDuplicatesWithinWatermark<Ev>(() => { throw new Error('bad key'); })).subscribe({ error: (e: unknown) => errors.push(e) });
      expect((errors[0] as Error).message).toBe('boom');
      expect(errors[1]).toBeInstanceOf(BatchSequenceError);
      expect(errors[2]).toBeInstanceOf(UserFunctionError);
      expect((errors[2] as Error).message).toContain('bad key');
    });

    it('does not mutate the input and keeps separate state per subscription', () => {
      const input = Object.freeze(batch(0, Object.freeze([Object.freeze(ev('a', 1)), Object.freeze(ev('a', 2))]), 0, { eventTime: marker(5000) }));
      const subject = new Subject<Batch<Ev>>();
      const out$ = subject.pipe(dropDuplicatesWithinWatermark<Ev>('id'), map((b) => b.rows.length));
      const first: number[] = [];
      const second: number[] = [];
      out$.subscribe((n) => first.push(n));
      subject.next(input);
      out$.subscribe((n) => second.push(n));
      subject.next(batch(1, [ev('a', 3)], 0, { eventTime: marker(5000) }));
      expect(first).toEqual([1, 0]);
      expect(second).toEqual([1]);
      expect(input.rows).toHaveLength(2);
    });
  });

  describe('column checks', () => {
    it('fails on a batch in which no row has a key field, unless checkColumns: false; resolves against known columns when built', () => {
      type Loose = { ts: number; id?: string };
      let error: unknown;
      fromBatches<Loose>([[{ ts: 1000 }]])
        .pipe(withWatermark<Loose>('ts', 0), dropDuplicatesWithinWatermark<Loose>('id'))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(ColumnNotFoundError);
      expect((error as Error).message).toContain("dropDuplicatesWithinWatermark: cannot resolve 'id' in batch 0: no row has it; input columns present: [ts] (keys).");
      const out: Loose[] = [];
      fromBatches<Loose>([[{ ts: 1000 }, { ts: 2000 }]])
        .pipe(withWatermark<Loose>('ts', '1 minute'), dropDuplicatesWithinWatermark<Loose>('id', { checkColumns: false }))
        .subscribe((b) => out.push(...b.rows));
      expect(out).toEqual([{ ts: 1000 }]);
      const known = withPlan(fromBatches<Loose>([]), { columns: ['ts', 'id'] }).pipe(withWatermark<Loose>('ts', 0));
      expect(() => known.pipe(dropDuplicatesWithinWatermark<Loose>('idx' as 'id'))).toThrow("dropDuplicatesWithinWatermark: cannot resolve 'idx' given input columns: [ts, id] (keys).");
    });
  });

  describe('misconfiguration', () => {
    it('rejects a pipeline without watermark on subscribe, before any batch, with Spark wording', () => {
      let error: unknown;
      let batches = 0;
      fromBatches([[ev('a', 1)]]).pipe(dropDuplicatesWithinWatermark<Ev>('id')).subscribe({ next: () => batches++, error: (e: unknown) => (error = e) });
      expect(batches).toBe(0);
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('dropDuplicatesWithinWatermark: dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark');
    });

    it('falls back to the first batch when a foreign operator hides the pipeline', () => {
      const errors: unknown[] = [];
      const rows: number[] = [];
      fromBatches([[ev('a', 1)]]).pipe(map((b) => b), dropDuplicatesWithinWatermark<Ev>('id')).subscribe({ next: (b) => rows.push(b.rows.length), error: (e: unknown) => errors.push(e) });
      expect(rows).toEqual([]);
      expect((errors[0] as Error).message).toContain('dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark');
      fromBatches([[ev('a', 1)]]).pipe(withWatermark<Ev>('ts', 0), map((b) => b), dropDuplicatesWithinWatermark<Ev>('id')).subscribe({ next: (b) => rows.push(b.rows.length), error: (e: unknown) => errors.push(e) });
      expect(rows).toEqual([1]);
      expect(errors).toHaveLength(1);
    });

    it('rejects a bad key spec when the operator is built', () => {
      expect(() => dropDuplicatesWithinWatermark({} as never)).toThrow(InvalidOptionError);
      expect(() => dropDuplicatesWithinWatermark('' as never)).toThrow('dropDuplicatesWithinWatermark: keys must be a field name, a non-empty list of field names or a function of the row; got "".');
    });
  });
});
