import { Subject, take, throwError } from 'rxjs';
import { union } from '../../operators/union.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { InvalidOptionError } from '../../lib/errors/index.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';
import type { Batch } from '../../lib/batch/Batch.js';

type Row = { ts: number };

describe('union', () => {
  it('emits each arriving batch in arrival order with the min watermark of the inputs', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const left = cold<Batch<Row>>('  a-------c---|', { a: batch(0, [at(10_000)], 0), c: batch(1, [at(40_000)], 30_000) });
      const right = cold<Batch<Row>>(' ----b-------|', { b: batch(0, [at(20_000)], 10_000) });
      expectObservable(left.pipe(union(right))).toBe('a---b---c---|', {
        a: batch(0, [at(10_000)], 0),
        b: batch(1, [at(20_000)], 0),
        c: batch(2, [at(40_000)], 10_000),
      });
      expectSubscriptions(left.subscriptions).toBe('^-----------!');
      expectSubscriptions(right.subscriptions).toBe('^-----------!');
    });
  });

  it("follows the fastest input with policy 'max'", () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const left = cold<Batch<Row>>('  a-------c|', { a: batch(0, [at(10_000)], 0), c: batch(1, [at(40_000)], 30_000) });
      const right = cold<Batch<Row>>(' ----b----|', { b: batch(0, [at(20_000)], 10_000) });
      expectObservable(left.pipe(union(right, { policy: 'max' }))).toBe('a---b---c|', {
        a: batch(0, [at(10_000)], 0),
        b: batch(1, [at(20_000)], 10_000),
        c: batch(2, [at(40_000)], 30_000),
      });
    });
  });

  it('never moves the global watermark back', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const left = cold<Batch<Row>>('  a-c|', { a: batch(0, [], 50), c: batch(1, [], 60) });
      const right = cold<Batch<Row>>(' -b--d|', { b: batch(0, [], 40), d: batch(1, [], 30) });
      expectObservable(left.pipe(union(right))).toBe('abc-d|', {
        a: batch(0, [], 0), b: batch(1, [], 40), c: batch(2, [], 40), d: batch(3, [], 40),
      });
    });
  });

  it('forms one batch from batch N of both inputs when aligned, left rows first', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const left = cold<Batch<Row>>('  a---c|', { a: batch(0, [at(1)], 0), c: batch(1, [at(3)], 30) });
      const right = cold<Batch<Row>>(' --b---d|', { b: batch(0, [at(2)], 20), d: batch(1, [], 20) });
      expectObservable(left.pipe(union(right, { aligned: true }))).toBe('--b---d|', {
        b: batch(0, [at(1), at(2)], 0),
        d: batch(1, [at(3)], 20),
      });
    });
  });

  it('carries on with one input after the other completes, when aligned', () => {
    const out: Batch<Row>[] = [];
    fromBatches<Row>([[at(1)], [at(2)]]).pipe(union(fromBatches<Row>([[at(9)]]), { aligned: true })).subscribe((b) => out.push(b));
    expect(out.map((b) => [b.batchId, b.rows.map((r) => r.ts)])).toEqual([[0, [1, 9]], [1, [2]]]);
  });

  it('starts the global watermark at 0 until both watermarked inputs have data', () => {
    const left$ = new Subject<Row[]>();
    const right$ = new Subject<Row[]>();
    const out: number[] = [];
    let lid = 0;
    let rid = 0;
    const l = new Subject<Batch<Row>>();
    const r = new Subject<Batch<Row>>();
    l.pipe(withWatermark('ts', 0), union(r.pipe(withWatermark('ts', 0)))).subscribe((b) => out.push(b.watermark));
    left$.subscribe((rows) => l.next({ batchId: lid++, rows, watermark: 0 }));
    right$.subscribe((rows) => r.next({ batchId: rid++, rows, watermark: 0 }));
    left$.next([at(100)]);
    left$.next([at(200)]);
    right$.next([at(150)]);
    right$.next([at(300)]);
    expect(out).toEqual([0, 0, 150, 200]);
  });

  it('does not mutate the input batches', () => {
    const a = Object.freeze(batch(0, Object.freeze([at(1)]), 5));
    const b = Object.freeze(batch(0, Object.freeze([at(2)]), 7));
    const out: Batch<Row>[] = [];
    const l = new Subject<Batch<Row>>();
    const r = new Subject<Batch<Row>>();
    l.pipe(union(r, { aligned: true })).subscribe((x) => out.push(x));
    l.next(a);
    r.next(b);
    expect(out[0]!.rows).toEqual([at(1), at(2)]);
    expect(a.rows).toEqual([at(1)]);
  });

  it('errors as soon as either input errors and unsubscribes the other', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const left = cold<Batch<Row>>('  a---|', { a: batch(0, [], 0) });
      const right = cold<Batch<Row>>(' --#', undefined, new Error('socket closed'));
      expectObservable(left.pipe(union(right))).toBe('a-#', { a: batch(0, [], 0) }, new Error('socket closed'));
      expectSubscriptions(left.subscriptions).toBe('^-!');
    });
    let error: unknown;
    fromBatches<Row>([]).pipe(union(throwError(() => new Error('x')))).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('x');
  });

  describe('misconfiguration', () => {
    it("rejects a policy other than 'min' or 'max' with Spark's wording", () => {
      expect(() => union(fromBatches([]), { policy: 'avg' as 'min' })).toThrow(InvalidOptionError);
      expect(() => union(fromBatches([]), { policy: 'avg' as 'min' })).toThrow("Valid values are 'min' and 'max'.");
    });
  });
});

describe('union with a synchronous firehose', () => {
  it('stops pulling from a synchronous input once the consumer has enough', () => {
    let pulled = 0;
    function* endless(): Generator<{ ts: number }[]> {
      for (;;) yield [{ ts: pulled++ }];
    }
    const out: number[] = [];
    fromBatches(endless()).pipe(union(fromBatches<{ ts: number }>([])), take(3)).subscribe((b) => out.push(b.batchId));
    expect(out).toEqual([0, 1, 2]);
    expect(pulled).toBe(3);
  });
});
