import { EMPTY, NEVER, Observable, Subject, map, of, pipe, share, take, throwError, type OperatorFunction } from 'rxjs';
import { outputMode } from '../../operators/outputMode.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { count } from '../../lib/aggregate/count.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import type { ResultBatch } from '../../lib/batch/ResultBatch.js';
import { InvalidOptionError, UnsupportedOperationError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

type Ev = { ts: number };
const S = 1000;
const w = (start: number, end: number) => ({ start, end });
const counts = () => windowTumbling<Ev>()({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } });
const failure = (run: () => Observable<unknown>): unknown => {
  let error: unknown;
  run().subscribe({ error: (e: unknown) => (error = e) });
  return error;
};
/** outputMode applied where the types forbid it (to test the run-time checks). */
const untyped = (mode: 'append' | 'update' | 'complete') => outputMode(mode) as unknown as OperatorFunction<Batch<unknown>, Batch<unknown>>;

describe('outputMode', () => {
  it('picks finalised, changed or all rows per mode, every batch', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---c---|', { a: batch(0, [at(10 * S), at(11 * S)]), b: batch(1, [at(25 * S)]), c: batch(2, []) });
      const rowsOf = (mode: 'append' | 'update' | 'complete') => input.pipe(withWatermark('ts', '10 seconds'), counts(), outputMode(mode as 'append'), map((b) => b.rows));
      expectObservable(rowsOf('append')).toBe('a---b---c---|', { a: [], b: [{ window: w(10 * S, 15 * S), n: 2 }], c: [] });
      expectObservable(rowsOf('update')).toBe('a---b---c---|', { a: [{ window: w(10 * S, 15 * S), n: 2 }], b: [{ window: w(25 * S, 30 * S), n: 1 }], c: [] });
      expectObservable(rowsOf('complete')).toBe('a---b---c---|', {
        a: [{ window: w(10 * S, 15 * S), n: 2 }],
        b: [{ window: w(10 * S, 15 * S), n: 2 }, { window: w(25 * S, 30 * S), n: 1 }],
        c: [{ window: w(10 * S, 15 * S), n: 2 }, { window: w(25 * S, 30 * S), n: 1 }],
      });
      expectSubscriptions(input.subscriptions).toBe(['^-----------!', '^-----------!', '^-----------!']);
    });
  });

  it('tags its batches with the mode, keeps id, watermark, marker and metrics', () => {
    const out: Batch<unknown>[] = [];
    fromBatches([[at(1 * S)]]).pipe(withWatermark('ts', 0), counts(), outputMode('update')).subscribe((b) => out.push(b));
    expect(out[0]).toMatchObject({ batchId: 0, watermark: 1 * S, outputMode: 'update', eventTime: { field: 'window', isWindow: true, delayMs: 0 }, aggregation: { kind: 'window', hasWatermark: true } });
    expect(out[0]!.metrics?.stateOperators).toHaveLength(1);
  });

  it('complete mode neither drops late rows nor evicts, even with a watermark (EWS complete mode)', () => {
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', '10 seconds'), counts(), outputMode('complete')))
      .addData([at(10 * S), at(11 * S)])
      .addData([at(25 * S)]) // watermark after: 15s
      .checkNewAnswer([{ window: w(10 * S, 15 * S), n: 2 }, { window: w(25 * S, 30 * S), n: 1 }])
      .addData([at(10 * S)]) // would be late in append/update mode
      .checkNewAnswer([{ window: w(10 * S, 15 * S), n: 3 }, { window: w(25 * S, 30 * S), n: 1 }])
      .checkDroppedByWatermark(0)
      .checkStateRows(2)
      .stop();
  });

  it('update mode evicts silently once the watermark passes (EWS update mode)', () => {
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', '10 seconds'), counts(), outputMode('update')))
      .addData([at(10 * S), at(11 * S)])
      .checkNewAnswer([{ window: w(10 * S, 15 * S), n: 2 }])
      .addData([at(25 * S)])
      .checkNewAnswer([{ window: w(25 * S, 30 * S), n: 1 }])
      .checkStateRows(1)
      .addData([at(10 * S)])
      .checkNewAnswer([])
      .checkDroppedByWatermark(1)
      .stop();
  });

  it('works when plain RxJS operators hide the plan (checks fall back to the first batch)', () => {
    const steps = runBatches(pipe(withWatermark<Ev>('ts', 0), counts(), map((b) => b), outputMode('complete')), [[at(1 * S)], [at(2 * S)]]);
    expect(steps.map((s) => s.rows)).toEqual([[{ window: w(0, 5 * S), n: 1 }], [{ window: w(0, 5 * S), n: 2 }]]);
  });

  it('passes rows of a non-aggregated stream through in append and update mode (Spark: stateless queries)', () => {
    const steps = runBatches(untyped('update'), [[at(1)], []]);
    expect(steps.map((s) => s.rows)).toEqual([[at(1)], []]);
  });

  it('completes, errors, unsubscribes and stops a firehose like any operator', () => {
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Batch<never>>('|').pipe(counts(), outputMode('update'))).toBe('|');
      expectObservable(cold('a#', { a: batch(0, []) }).pipe(counts(), outputMode('update'), map((b) => b.batchId))).toBe('a#', { a: 0 });
      const source = hot('-a-b-', { a: batch(0, [at(1)]), b: batch(1, [at(2)]) });
      expectObservable(source.pipe(counts(), outputMode('complete'), map((b) => b.batchId)), '^-!').toBe('-a', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    let done = false;
    EMPTY.pipe(counts(), outputMode('update')).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    NEVER.pipe(counts(), outputMode('update')).subscribe().unsubscribe();
    const error = failure(() => throwError(() => new Error('x')).pipe(counts(), outputMode('update')));
    expect((error as Error).message).toBe('x');
    let emitted = 0;
    fromBatches((function* () { for (;;) { emitted++; yield [at(emitted)]; } })()).pipe(counts(), outputMode('complete'), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  it('does not mutate its input and keeps the aggregation state per subscription', () => {
    const input: Batch<Ev> = Object.freeze({ batchId: 0, rows: Object.freeze([Object.freeze(at(1))]), watermark: 0 });
    let rows: readonly unknown[] = [];
    of(input).pipe(counts(), outputMode('complete')).subscribe((b) => (rows = b.rows));
    expect(rows).toEqual([{ window: w(0, 5 * S), n: 1 }]);
    const subject = new Subject<Batch<Ev>>();
    const out$ = subject.pipe(counts(), outputMode('complete'), map((b) => b.rows.length));
    const a: number[] = [];
    out$.subscribe((x) => a.push(x));
    subject.next(batch(0, [at(1)]));
    const b: number[] = [];
    out$.subscribe((x) => b.push(x));
    subject.next(batch(1, [at(10 * S)]));
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([1]);
  });

  describe('misconfiguration', () => {
    it('rejects append mode on an aggregation without watermark, on subscribe and with Spark wording', () => {
      const error = failure(() => fromBatches([[at(1)]]).pipe(counts(), outputMode('append')));
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('outputMode: Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark');
      // The watermark is on another column: still no watermark on the grouping.
      const other = failure(() => fromBatches([[{ ts: 1, t2: 1 }]]).pipe(withWatermark('t2', 0), windowTumbling({ eventTime: 'ts', size: 5, aggregate: { n: count() } }), outputMode('append')));
      expect((other as Error).message).toContain('Append output mode not supported');
      // Plan hidden by a foreign operator: detected at the first batch.
      const hidden = failure(() => fromBatches([[at(1)]]).pipe(map((b) => b), counts(), outputMode('append')));
      expect((hidden as Error).message).toContain('Append output mode not supported');
    });

    it('rejects complete mode without aggregation, with Spark wording', () => {
      const error = failure(() => fromBatches([[at(1)]]).pipe(withWatermark('ts', 0), untyped('complete')));
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('outputMode: Complete output mode not supported when there are no streaming aggregations on streaming DataFrames/Datasets');
      const hidden = failure(() => fromBatches([[at(1)]]).pipe(map((b) => b), untyped('complete')));
      expect((hidden as Error).message).toContain('Complete output mode not supported');
    });

    it('reaches the aggregation through share() and map: complete mode keeps every group', () => {
      const input = new Subject<Batch<Ev>>();
      const shared = input.pipe(withWatermark('ts', 0), counts(), share());
      const tables: unknown[][] = [];
      shared.pipe(map((b) => b as ResultBatch<unknown>), outputMode('complete')).subscribe((b) => tables.push([...b.rows]));
      input.next(batch(0, [{ ts: 1 * S }]));
      input.next(batch(1, [{ ts: 20 * S }]));
      expect(tables.map((t) => t.length)).toEqual([1, 2]); // the first window is kept though the watermark passed it
    });

    it('rejects complete mode when an Observable without a source link hides the aggregation, which then evicts', () => {
      const input = new Subject<Batch<Ev>>();
      const aggregated = input.pipe(withWatermark('ts', 0), counts());
      const hidden = new Observable<ResultBatch<unknown>>((subscriber) => aggregated.subscribe({ next: (b) => subscriber.next(b as ResultBatch<unknown>) }));
      let error: unknown;
      hidden.pipe(outputMode('complete')).subscribe({ error: (e: unknown) => (error = e) });
      input.next(batch(0, [at(1)]));
      expect((error as Error).message).toMatch(/^outputMode: complete mode needs the aggregation windowTumbling#\d+ to keep every group/);
    });

    it('rejects an unknown mode', () => {
      expect(() => outputMode('upsert' as 'append')).toThrow(InvalidOptionError);
      expect(() => outputMode('upsert' as 'append')).toThrow("outputMode: mode must be 'append', 'update' or 'complete'; got \"upsert\".");
    });

    it('rejects update mode after a groupAggregate followed by another aggregation', () => {
      const error = failure(() => fromBatches([[at(1)]]).pipe(groupAggregate<Ev>()({ keyBy: 'ts', aggregate: { n: count() } }), outputMode('update'), groupAggregate({ aggregate: { m: count() } })));
      expect((error as Error).message).toContain("Detected pattern of possible 'correctness' issue");
    });
  });
});
