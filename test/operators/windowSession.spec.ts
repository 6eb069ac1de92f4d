import { EMPTY, NEVER, Subject, map, of, pipe, take, throwError } from 'rxjs';
import { windowSession } from '../../operators/windowSession.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { collectList } from '../../lib/aggregate/collectList.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import type { ResultBatch } from '../../lib/batch/ResultBatch.js';
import { InvalidDurationError, InvalidOptionError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import type { LateRows } from '../../lib/types.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Ev = { ts: number; user: string; gap?: number | null };
const S = 1000;
const e = (ts: number, user = 'u1', extra: Partial<Ev> = {}): Ev => ({ ts, user, ...extra });
const w = (start: number, end: number) => ({ start, end });
const session10s = () => windowSession<Ev>()({ eventTime: 'ts', gap: '10 seconds', keyBy: 'user', aggregate: { n: count() } });

describe('windowSession', () => {
  it('emits a session once the watermark passes its end (append)', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---c---|', { a: batch(0, [e(10 * S), e(15 * S)]), b: batch(1, [e(40 * S)]), c: batch(2, [e(75 * S)]) });
      expectObservable(input.pipe(withWatermark('ts', '10 seconds'), session10s(), outputMode('append'), map((b) => ({ id: b.batchId, wm: b.watermark, rows: b.rows })))).toBe('a---b---c---|', {
        a: { id: 0, wm: 5 * S, rows: [] },
        b: { id: 1, wm: 30 * S, rows: [{ window: w(10 * S, 25 * S), user: 'u1', n: 2 }] },
        c: { id: 2, wm: 65 * S, rows: [{ window: w(40 * S, 50 * S), user: 'u1', n: 1 }] },
      });
      expectSubscriptions(input.subscriptions).toBe('^-----------!');
    });
  });

  it('merges sessions that touch, and a new event bridges two sessions (SWS complete mode)', () => {
    streamTest<Ev, unknown>(pipe(windowSession<Ev>()({ eventTime: 'ts', gap: 10 * S, keyBy: 'user', aggregate: { n: count() } }), outputMode('complete')))
      .addData([e(25 * S), e(40 * S)])
      .checkNewAnswer([{ window: w(25 * S, 35 * S), user: 'u1', n: 1 }, { window: w(40 * S, 50 * S), user: 'u1', n: 1 }])
      .checkStateRows(2)
      .addData([e(30 * S)]) // [30s,40s) touches [40s,50s) and overlaps [25s,35s)
      .checkNewAnswer([{ window: w(25 * S, 50 * S), user: 'u1', n: 3 }])
      .checkStateRows(1)
      .addData([e(50 * S, 'u2')])
      .checkNewAnswer([{ window: w(25 * S, 50 * S), user: 'u1', n: 3 }, { window: w(50 * S, 60 * S), user: 'u2', n: 1 }])
      .stop();
  });

  it("drops an event whose own session ends at or before the watermark, and accepts an older one whose session ends later (SWS append mode)", () => {
    const late: LateRows<Ev>[] = [];
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', 0), windowSession<Ev>()({ eventTime: 'ts', gap: 10 * S, keyBy: 'user', aggregate: { n: count() }, onLateRows: (l) => late.push(l) }), outputMode('append')))
      .addData([e(11 * S, 'a')]) // watermark after: 11s
      .checkNewAnswer([])
      .addData([e(5 * S, 'b'), e(1 * S, 'c')]) // b: [5s,15s) ends after 11s: accepted; c: [1s,11s) ends at 11s: late
      .checkNewAnswer([])
      .checkDroppedByWatermark(1)
      .checkStateRows(2)
      .addData([e(30 * S, 'z')]) // watermark 30s closes a [11s,21s) and b [5s,15s)
      .checkNewAnswer([{ window: w(5 * S, 15 * S), user: 'b', n: 1 }, { window: w(11 * S, 21 * S), user: 'a', n: 1 }])
      .checkStateRows(1)
      .stop();
    expect(late).toEqual([{ operatorId: expect.stringMatching(/^windowSession#\d+$/), batchId: 1, watermark: 11 * S, rows: [e(1 * S, 'c')] }]);
  });

  it('takes a gap per row; rows with a null or non-positive gap are discarded and counted', () => {
    const [step] = runBatches(
      pipe(windowSession<Ev>()({ eventTime: 'ts', gap: (r) => r.gap, keyBy: 'user', aggregate: { n: count() } }), outputMode('complete')),
      [[e(0, 'u1', { gap: 5 * S }), e(4 * S, 'u1', { gap: 20 * S }), e(30 * S, 'u1', { gap: 0 }), e(31 * S, 'u1', { gap: null }), e(10 * S, 'u2', { gap: 1 * S })]],
    );
    expect(step!.rows).toEqual([{ window: w(0, 24 * S), user: 'u1', n: 2 }, { window: w(10 * S, 11 * S), user: 'u2', n: 1 }]);
    expect(step!.metrics!.stateOperators![0]!.customMetrics).toEqual({ numRowsDiscardedByGap: 2 });
  });

  it('accepts Duration gaps from the gap function', () => {
    const [step] = runBatches(pipe(windowSession<Ev>()({ eventTime: 'ts', gap: () => '1 minute', keyBy: 'user', aggregate: { n: count() } }), outputMode('complete')), [[e(0)]]);
    expect(step!.rows).toEqual([{ window: w(0, 60 * S), user: 'u1', n: 1 }]);
  });

  it('sorts out-of-order events within a batch and keeps arrival order of aggregates per session', () => {
    const [step] = runBatches(pipe(windowSession<Ev>()({ eventTime: 'ts', gap: 5 * S, keyBy: 'user', aggregate: { ts: collectList('ts'), total: sum('ts') } }), outputMode('complete')), [
      [e(8 * S), e(1 * S), e(4 * S), e(30 * S)],
    ]);
    expect(step!.rows).toEqual([
      { window: w(1 * S, 13 * S), user: 'u1', ts: [1 * S, 4 * S, 8 * S], total: 13 * S },
      { window: w(30 * S, 35 * S), user: 'u1', ts: [30 * S], total: 30 * S },
    ]);
  });

  it('reports the sessions a batch changed in ResultBatch.updated', () => {
    const out: ResultBatch<unknown>[] = [];
    fromBatches([[e(0), e(100 * S, 'u2')], [e(5 * S)]]).pipe(session10s()).subscribe((b) => out.push(b));
    expect(out[1]!.updated).toEqual([{ window: w(0, 15 * S), user: 'u1', n: 2 }]);
    expect(out[1]!.table.size).toBe(2);
  });

  it('passes empty batches through and evicts with the metrics showing it', () => {
    const steps = runBatches(pipe(withWatermark<Ev>('ts', 0), session10s(), outputMode('append')), [[e(0)], [], [e(50 * S, 'u2')]]);
    expect(steps.map((s) => [s.batchId, s.rows.length, s.metrics!.stateOperators![0]!.numRowsTotal, s.metrics!.stateOperators![0]!.numRowsRemoved])).toEqual([
      [0, 0, 1, 0],
      [1, 0, 1, 0],
      [2, 1, 1, 1],
    ]);
  });

  it('does not mutate its input and keeps state per subscription', () => {
    const input: Batch<Ev> = Object.freeze({ batchId: 0, rows: Object.freeze([Object.freeze(e(1 * S))]), watermark: 0 });
    let rows: readonly unknown[] = [];
    of(input).pipe(session10s(), outputMode('complete')).subscribe((b) => (rows = b.rows));
    expect(rows).toEqual([{ window: w(1 * S, 11 * S), user: 'u1', n: 1 }]);
    const subject = new Subject<Batch<Ev>>();
    const out$ = subject.pipe(session10s(), outputMode('complete'), map((b) => b.rows));
    const a: unknown[] = [];
    const b: unknown[] = [];
    out$.subscribe((x) => a.push(x));
    subject.next(batch(0, [e(0)]));
    out$.subscribe((x) => b.push(x));
    subject.next(batch(1, [e(5 * S)]));
    expect(a[1]).toEqual([{ window: w(0, 15 * S), user: 'u1', n: 2 }]);
    expect(b[0]).toEqual([{ window: w(5 * S, 15 * S), user: 'u1', n: 1 }]);
  });

  it('completes, errors, unsubscribes and stops a firehose like any operator', () => {
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Batch<never>>('|').pipe(session10s())).toBe('|');
      expectObservable(cold('a#', { a: batch(0, []) }).pipe(session10s(), map((b) => b.batchId))).toBe('a#', { a: 0 });
      const source = hot('-a-b-', { a: batch(0, [e(1)]), b: batch(1, [e(2)]) });
      expectObservable(source.pipe(session10s(), map((b) => b.batchId)), '^-!').toBe('-a', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    let done = false;
    EMPTY.pipe(session10s()).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    NEVER.pipe(session10s()).subscribe().unsubscribe();
    let error: unknown;
    throwError(() => new Error('x')).pipe(session10s()).subscribe({ error: (err: unknown) => (error = err) });
    expect((error as Error).message).toBe('x');
    let emitted = 0;
    fromBatches((function* () { for (;;) { emitted++; yield [e(emitted * S)]; } })()).pipe(session10s(), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  it('wraps a throwing gap function in a UserFunctionError', () => {
    let error: unknown;
    fromBatches([[e(1)]])
      .pipe(windowSession<Ev>()({ eventTime: 'ts', gap: () => { throw new Error('no gap'); }, keyBy: 'user', aggregate: { n: count() } }))
      .subscribe({ error: (err: unknown) => (error = err) });
    expect(error).toBeInstanceOf(UserFunctionError);
  });

  describe('misconfiguration', () => {
    it('returns itself when called with no arguments (windowSession<Row>()) and rejects undefined options', () => {
      expect(windowSession<Ev>()).toBe(windowSession);
      expect(() => windowSession(undefined as never)).toThrow('windowSession: gap is required; got undefined.');
    });

    it('rejects a global session window (no key) on subscribe, with Spark wording', () => {
      let error: unknown;
      fromBatches([[e(1)]]).pipe(windowSession<Ev>()({ eventTime: 'ts', gap: 10, aggregate: { n: count() } })).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('windowSession: Global aggregation with session window in streaming query is not supported.');
    });

    it('rejects update mode on subscribe, with Spark wording', () => {
      let error: unknown;
      const updateMode = outputMode('update') as unknown as (s: unknown) => typeof NEVER;
      updateMode(fromBatches([[e(1)]]).pipe(withWatermark('ts', 0), session10s())).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe('outputMode: Update output mode not supported for session window on streaming DataFrames/DataSets');
    });

    it('rejects a missing, zero or month-long static gap', () => {
      expect(() => windowSession<Ev>()({ eventTime: 'ts', gap: undefined as unknown as number, keyBy: 'user', aggregate: { n: count() } })).toThrow(
        "windowSession: gap is required; got undefined. Pass a duration such as '30 seconds' or a function of the row.",
      );
      expect(() => windowSession<Ev>()({ eventTime: 'ts', gap: 0, keyBy: 'user', aggregate: { n: count() } })).toThrow('windowSession: gap must be positive; got 0 (0 ms).');
      expect(() => windowSession<Ev>()({ eventTime: 'ts', gap: '1 month', keyBy: 'user', aggregate: { n: count() } })).toThrow(InvalidDurationError);
      expect(() => windowSession<Ev>()({ eventTime: 'ts', gap: 10, keyBy: 'user', aggregate: { user: count() } })).toThrow(InvalidOptionError);
    });
  });
});
