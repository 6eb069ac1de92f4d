import { EMPTY, NEVER, Subject, map, of, pipe, take, throwError } from 'rxjs';
import { windowSliding } from '../../operators/windowSliding.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { InvalidDurationError, InvalidOptionError, UserFunctionError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import type { LateRows } from '../../lib/types.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

type Ev = { ts: number; k?: string; v?: number };
const S = 1000;
const w = (start: number, end: number) => ({ start, end });
const sliding = () => windowSliding<Ev>()({ eventTime: 'ts', size: '10 seconds', slide: '5 seconds', aggregate: { n: count() } });

describe('windowSliding', () => {
  it('counts a row in every window holding it and emits windows once the watermark passes them', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---|', { a: batch(0, [at(12 * S)]), b: batch(1, [at(31 * S)]) });
      expectObservable(input.pipe(withWatermark('ts', '5 seconds'), sliding(), outputMode('append'), map((b) => ({ id: b.batchId, wm: b.watermark, rows: b.rows })))).toBe('a---b---|', {
        a: { id: 0, wm: 7 * S, rows: [] },
        b: { id: 1, wm: 26 * S, rows: [{ window: w(5 * S, 15 * S), n: 1 }, { window: w(10 * S, 20 * S), n: 1 }] },
      });
      expectSubscriptions(input.subscriptions).toBe('^-------!');
    });
  });

  it('decides lateness per window: a row counts in its open windows only', () => {
    const late: LateRows<Ev>[] = [];
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', 0), windowSliding<Ev>()({ eventTime: 'ts', size: 10 * S, slide: 5 * S, aggregate: { n: count() }, onLateRows: (l) => late.push(l) }), outputMode('update')))
      .addData([at(16 * S)]) // watermark after: 16s
      .addData([at(12 * S)]) // [5s,15s) is late, [10s,20s) is open
      .checkNewAnswer([{ window: w(10 * S, 20 * S), n: 2 }])
      .checkDroppedByWatermark(0)
      .addData([at(4 * S)]) // [-5s,5s) and [0,10s) both closed: the row is dropped
      .checkNewAnswer([])
      .checkDroppedByWatermark(1)
      .stop();
    expect(late.map((l) => l.rows)).toEqual([[at(4 * S)]]);
  });

  it('gives 3 or 4 windows per row when the slide does not divide the size', () => {
    const [step] = runBatches(pipe(windowSliding<Ev>()({ eventTime: 'ts', size: 10 * S, slide: 3 * S, aggregate: { n: count() } }), outputMode('complete')), [[at(10 * S)]]);
    expect(step!.rows).toEqual([{ window: w(3 * S, 13 * S), n: 1 }, { window: w(6 * S, 16 * S), n: 1 }, { window: w(9 * S, 19 * S), n: 1 }]);
  });

  it('applies startTime and negative timestamps', () => {
    const [step] = runBatches(pipe(windowSliding<Ev>()({ eventTime: 'ts', size: 10 * S, slide: 5 * S, startTime: -2 * S, keyBy: 'k', aggregate: { total: sum('v') } }), outputMode('complete')), [
      [at(-1 * S, { k: 'a', v: 2 })],
    ]);
    expect(step!.rows).toEqual([{ window: w(-7 * S, 3 * S), k: 'a', total: 2 }, { window: w(-2 * S, 8 * S), k: 'a', total: 2 }]);
  });

  it('passes empty batches through and evicts state as the watermark moves', () => {
    const steps = runBatches(pipe(withWatermark<Ev>('ts', 0), sliding(), outputMode('append')), [[at(1 * S)], [], [at(12 * S)], [at(30 * S)]]);
    // count() merges in any order, so the state holds one row per 5 s pane (not one per window).
    expect(steps.map((s) => [s.batchId, s.rows.length, s.metrics!.stateOperators![0]!.numRowsTotal])).toEqual([[0, 0, 1], [1, 0, 1], [2, 2, 1], [3, 2, 1]]);
    // An aggregator that is not order-insensitive keeps one row per window.
    const perWindow = runBatches(pipe(withWatermark<Ev>('ts', 0), windowSliding<Ev>()({ eventTime: 'ts', size: '10 seconds', slide: '5 seconds', aggregate: { n: { ...count() } } }), outputMode('append')), [[at(1 * S)], [], [at(12 * S)], [at(30 * S)]]);
    expect(perWindow.map((s) => [s.batchId, s.rows.length, s.metrics!.stateOperators![0]!.numRowsTotal])).toEqual([[0, 0, 2], [1, 0, 2], [2, 2, 2], [3, 2, 2]]);
  });

  it('does not mutate its input and keeps state per subscription', () => {
    const input: Batch<Ev> = Object.freeze({ batchId: 0, rows: Object.freeze([Object.freeze(at(1 * S))]), watermark: 0 });
    let rows: readonly unknown[] = [];
    of(input).pipe(sliding(), outputMode('complete')).subscribe((b) => (rows = b.rows));
    expect(rows).toEqual([{ window: w(-5 * S, 5 * S), n: 1 }, { window: w(0, 10 * S), n: 1 }]);
    const subject = new Subject<Batch<Ev>>();
    const out$ = subject.pipe(sliding(), outputMode('complete'), map((b) => b.rows.length));
    const a: number[] = [];
    const b: number[] = [];
    out$.subscribe((x) => a.push(x));
    subject.next(batch(0, [at(1 * S)]));
    out$.subscribe((x) => b.push(x));
    subject.next(batch(1, [at(7 * S)]));
    expect(a).toEqual([2, 3]);
    expect(b).toEqual([2]);
  });

  it('completes, errors, unsubscribes and stops a firehose like any operator', () => {
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Batch<never>>('|').pipe(sliding())).toBe('|');
      expectObservable(cold('a#', { a: batch(0, []) }).pipe(sliding(), map((b) => b.batchId))).toBe('a#', { a: 0 });
      const source = hot('-a-b-', { a: batch(0, [at(1)]), b: batch(1, [at(2)]) });
      expectObservable(source.pipe(sliding(), map((b) => b.batchId)), '^-!').toBe('-a', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    let done = false;
    EMPTY.pipe(sliding()).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    NEVER.pipe(sliding()).subscribe().unsubscribe();
    let error: unknown;
    throwError(() => new Error('x')).pipe(sliding()).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('x');
    let emitted = 0;
    fromBatches((function* () { for (;;) { emitted++; yield [at(emitted * S)]; } })()).pipe(sliding(), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  it('wraps a throwing aggregator in a UserFunctionError', () => {
    let error: unknown;
    fromBatches([[at(1)]])
      .pipe(windowSliding<Ev>()({ eventTime: 'ts', size: 10, slide: 5, aggregate: { bad: { init: () => 0, add: () => { throw new Error('nope'); }, merge: (a: number) => a, result: (a: number) => a } } }))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as Error).message).toBe('windowSliding: a user function threw while processing batch 0: Error: nope');
  });

  describe('misconfiguration', () => {
    it('returns itself when called with no arguments (windowSliding<Row>()) and rejects undefined options', () => {
      expect(windowSliding<Ev>()).toBe(windowSliding);
      expect(() => windowSliding(undefined as never)).toThrow('windowSliding: slide is required; got undefined.');
    });

    it('rejects a slide longer than the size, with both echoed', () => {
      expect(() => windowSliding<Ev>()({ eventTime: 'ts', size: '10 minutes', slide: '15 minutes', aggregate: { n: count() } })).toThrow(
        `windowSliding: slide must not exceed size; got slide "15 minutes" (900000 ms), size "10 minutes" (600000 ms). Use windowTumbling for non-overlapping windows.`,
      );
    });

    it('rejects a missing or non-positive slide, |startTime| >= slide and months', () => {
      expect(() => windowSliding<Ev>()({ eventTime: 'ts', size: 10, slide: undefined as unknown as number, aggregate: { n: count() } })).toThrow("windowSliding: slide is required; got undefined. Pass a duration such as '5 minutes', or use windowTumbling.");
      expect(() => windowSliding<Ev>()({ eventTime: 'ts', size: 10, slide: 0, aggregate: { n: count() } })).toThrow(InvalidOptionError);
      expect(() => windowSliding<Ev>()({ eventTime: 'ts', size: 10, slide: 5, startTime: 5, aggregate: { n: count() } })).toThrow('windowSliding: startTime must be less than slide in absolute value');
      expect(() => windowSliding<Ev>()({ eventTime: 'ts', size: '2 months', slide: '1 month', aggregate: { n: count() } })).toThrow(InvalidDurationError);
    });
  });
});
