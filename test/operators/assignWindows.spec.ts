import { EMPTY, NEVER, Subject, map, of, pipe, take, throwError } from 'rxjs';
import { assignWindows } from '../../operators/assignWindows.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { EventTimeError, InvalidOptionError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

type Ev = { ts: number };
const S = 1000;
const w = (start: number, end: number) => ({ start, end });
const sliding = () => assignWindows<Ev>({ eventTime: 'ts', size: '10 seconds', slide: '5 seconds' });

describe('assignWindows', () => {
  it('emits one row per window the row falls in, earliest first', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---|', { a: batch(0, [at(12 * S)]), b: batch(1, []) });
      expectObservable(input.pipe(sliding())).toBe('a---b---|', {
        a: batch(0, [{ ts: 12 * S, window: w(5 * S, 15 * S) }, { ts: 12 * S, window: w(10 * S, 20 * S) }]),
        b: batch(1, []),
      });
      expectSubscriptions(input.subscriptions).toBe('^-------!');
    });
  });

  it('names the column with `as`, applies startTime and handles times before 1970', () => {
    const [step] = runBatches(assignWindows<Ev, 'bucket'>({ eventTime: 'ts', size: 10 * S, startTime: 5 * S, as: 'bucket' }), [[at(-8 * S), at(5 * S)]]);
    expect(step!.rows).toEqual([{ ts: -8 * S, bucket: w(-15 * S, -5 * S) }, { ts: 5 * S, bucket: w(5 * S, 15 * S) }]);
  });

  it('moves the watermark marker to the window column, compared by its end', () => {
    const out: Batch<unknown>[] = [];
    fromBatches([[at(12 * S)]]).pipe(withWatermark('ts', '1 second'), sliding()).subscribe((b) => out.push(b));
    expect(out[0]!.eventTime).toEqual({ field: 'window', isWindow: true, delayMs: 1000 });
    expect(out[0]!.watermark).toBe(11 * S);
    // Not from the watermarked column: the marker stays.
    const other: Batch<unknown>[] = [];
    fromBatches([[{ ts: 1, t2: 2 }]]).pipe(withWatermark('t2', 0), assignWindows({ eventTime: 'ts', size: 10 })).subscribe((b) => other.push(b));
    expect(other[0]!.eventTime).toMatchObject({ field: 't2', isWindow: false });
  });

  it('lets a window of windows use window_time (end - 1): a 10 s window lands in the 20 s window holding its end', () => {
    const [step] = runBatches(pipe(assignWindows<Ev>({ eventTime: 'ts', size: 10 * S }), windowTumbling({ eventTime: 'window', size: 20 * S, aggregate: { n: count() } }), outputMode('complete')), [
      [at(15 * S), at(25 * S)],
    ]);
    expect(step!.rows).toEqual([{ window: w(0, 20 * S), n: 1 }, { window: w(20 * S, 40 * S), n: 1 }]);
  });

  it('keeps watermark, ids and empty batches, and needs no state', () => {
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', 0), sliding()))
      .addData([])
      .checkNewAnswer([])
      .addData([at(7 * S)])
      .checkNewAnswer([{ ts: 7 * S, window: w(0, 10 * S) }, { ts: 7 * S, window: w(5 * S, 15 * S) }])
      .checkWatermark(7 * S)
      .stop();
  });

  it('raises an EventTimeError for a missing time, or drops and counts it', () => {
    let error: unknown;
    fromBatches([[{} as Ev]]).pipe(sliding()).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(EventTimeError);
    expect((error as Error).message).toContain('assignWindows: event time ts is missing in batch 0, row 0');
    const [step] = runBatches(assignWindows<Partial<Ev>>({ eventTime: 'ts', size: 10, onInvalidEventTime: 'drop' }), [[{}, { ts: 1 }]]);
    expect(step!.rows).toEqual([{ ts: 1, window: w(0, 10) }]);
    expect(step!.metrics?.numRowsDroppedInvalidEventTime).toBe(1);
  });

  it('does not mutate its input and shares nothing between subscriptions', () => {
    const input: Batch<Ev> = Object.freeze({ batchId: 0, rows: Object.freeze([Object.freeze(at(1))]), watermark: 0 });
    let rows: readonly unknown[] = [];
    of(input).pipe(sliding()).subscribe((b) => (rows = b.rows));
    expect(rows).toHaveLength(2);
    expect(input.rows[0]).toEqual(at(1));
    const subject = new Subject<Batch<Ev>>();
    const out$ = subject.pipe(sliding(), map((b) => b.rows.length));
    const a: number[] = [];
    out$.subscribe((x) => a.push(x));
    out$.subscribe((x) => a.push(x));
    subject.next(batch(0, [at(1)]));
    expect(a).toEqual([2, 2]);
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
    fromBatches((function* () { for (;;) { emitted++; yield [at(emitted)]; } })()).pipe(sliding(), take(2)).subscribe();
    expect(emitted).toBe(2);
  });

  describe('misconfiguration', () => {
    it('rejects bad window options and column names', () => {
      expect(() => assignWindows<Ev>({ eventTime: 'ts', size: 10, slide: 20 })).toThrow('assignWindows: slide must not exceed size; got slide 20 (20 ms), size 10 (10 ms).');
      expect(() => assignWindows<Ev>({ eventTime: 'ts', size: '1 year' })).toThrow('assignWindows: size must have a fixed length');
      expect(() => assignWindows<Ev>({ eventTime: 'ts', size: 10, as: '' as 'window' })).toThrow(InvalidOptionError);
      expect(() => assignWindows<Ev>({ eventTime: 'ts', size: 10, as: '' as 'window' })).toThrow('assignWindows: as must be a non-empty string; got "".');
    });

    it('returns itself when called with no arguments (assignWindows<Row>()) and rejects undefined options', () => {
      expect(assignWindows<Ev>()).toBe(assignWindows);
      expect(() => assignWindows(undefined as never)).toThrow('assignWindows: size is required; got undefined.');
    });
  });
});
