import { of, throwError, Subject } from 'rxjs';
import { withWatermark } from '../../operators/withWatermark.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { EventTimeError, InvalidDurationError, UnsupportedOperationError, BatchSequenceError, InvalidOptionError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';
import type { Batch } from '../../lib/batch/Batch.js';

const marker = { field: 'ts', isWindow: false, delayMs: 10_000 };
const stats = (min: number, max: number, count: number) => ({ eventTime: { min, max, avg: (min + max) / 2, count } });

describe('withWatermark', () => {
  it('sets the watermark to max event time minus delay and never moves it back', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a-b-c|', { a: batch(0, [at(10_000)]), b: batch(1, [at(25_000)]), c: batch(2, [at(9_000)]) });
      expectObservable(input.pipe(withWatermark('ts', '10 seconds'))).toBe('a-b-c|', {
        a: batch(0, [at(10_000)], 0, { eventTime: marker, metrics: stats(10_000, 10_000, 1) }),
        b: batch(1, [at(25_000)], 15_000, { eventTime: marker, metrics: stats(25_000, 25_000, 1) }),
        c: batch(2, [at(9_000)], 15_000, { eventTime: marker, metrics: stats(9_000, 9_000, 1) }),
      });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('passes an empty batch through with its id and the unchanged watermark', () => {
    const steps = runBatches(withWatermark<{ ts: number }>('ts', 1000), [[at(5000)], [], [at(3000)]]);
    expect(steps.map((s) => [s.batchId, s.rows.length, s.watermark])).toEqual([[0, 1, 4000], [1, 0, 4000], [2, 1, 4000]]);
  });

  it('keeps the watermark at 0 while max event time minus delay is negative', () => {
    const steps = runBatches(withWatermark<{ ts: number }>('ts', '10 seconds'), [[at(5000)], [at(12_000)]]);
    expect(steps.map((s) => s.watermark)).toEqual([0, 2000]);
  });

  it('reads Date values, ISO-8601 strings without zone as UTC, and functions', () => {
    const rows = [{ t: new Date('2018-03-02T10:02:33Z') }, { t: '2018-03-02T10:04:35' }, { t: '2018-03-02 10:03:00' }];
    const [step] = runBatches(withWatermark<{ t: Date | string }>('t', '1 minute'), [rows]);
    expect(step!.watermark).toBe(Date.UTC(2018, 2, 2, 10, 3, 35));
    const [fnStep] = runBatches(withWatermark<{ at: { s: number } }>((r) => r.at.s * 1000, 0), [[{ at: { s: 7 } }]]);
    expect(fnStep!.watermark).toBe(7000);
  });

  it('raises an EventTimeError naming field, value, batch and row for an unparsable event time', () => {
    let caught: unknown;
    fromBatches([[at(1000)], [at(2000), { ts: 'yesterday' }]])
      .pipe(withWatermark<{ ts: number | string }>('ts', 0))
      .subscribe({ error: (e: unknown) => (caught = e) });
    expect(caught).toBeInstanceOf(EventTimeError);
    expect(caught).toMatchObject({ field: 'ts', batchId: 1, rowIndex: 1, received: 'yesterday' });
    expect((caught as Error).message).toContain('withWatermark: event time ts is not a valid time in batch 1, row 1; got "yesterday"');
  });

  it('drops and counts rows with a missing event time when asked to', () => {
    streamTest(withWatermark<{ ts?: number }>('ts', 0, { onInvalidEventTime: 'drop' }))
      .addData([{ ts: 1000 }, {}, { ts: 3000 }])
      .checkNewAnswer([{ ts: 1000 }, { ts: 3000 }])
      .checkDroppedInvalidEventTime(1)
      .checkWatermark(3000);
  });

  it('does not mutate the input batch', () => {
    const input: Batch<{ ts: number }> = Object.freeze({ batchId: 0, rows: Object.freeze([Object.freeze(at(5))]), watermark: 0 });
    let out: Batch<{ ts: number }> | undefined;
    of(input).pipe(withWatermark<{ ts: number }>('ts', 0)).subscribe((b) => (out = b));
    expect(out?.watermark).toBe(5);
    expect(input.watermark).toBe(0);
  });

  it('keeps separate state per subscription', () => {
    const subject = new Subject<Batch<{ ts: number }>>();
    const wm = subject.pipe(withWatermark<{ ts: number }>('ts', 0));
    const a: number[] = [];
    const b: number[] = [];
    wm.subscribe((x) => a.push(x.watermark));
    subject.next(batch(0, [at(100)]));
    wm.subscribe((x) => b.push(x.watermark));
    subject.next(batch(1, [at(50)]));
    expect(a).toEqual([100, 100]);
    expect(b).toEqual([50]);
  });

  it('forwards source errors and rejects decreasing batch ids', () => {
    let error: unknown;
    throwError(() => new Error('boom')).pipe(withWatermark('ts', 0)).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('boom');
    of(batch(1, [at(1)]), batch(0, [at(2)])).pipe(withWatermark<{ ts: number }>('ts', 0)).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(BatchSequenceError);
  });

  describe('misconfiguration', () => {
    it('rejects a negative delay with Spark wording', () => {
      expect(() => withWatermark('ts', '-1 second')).toThrow(InvalidDurationError);
      expect(() => withWatermark('ts', -1000)).toThrow('should not be negative.');
    });

    it('rejects an unparsable delay quoting it', () => {
      expect(() => withWatermark('ts', '10 minuts')).toThrow('withWatermark: delay is not a duration; got "10 minuts"');
    });

    it('rejects a bad event-time spec', () => {
      expect(() => withWatermark('' as 'ts', 0)).toThrow(InvalidOptionError);
    });

    it('rejects a second watermark downstream on subscribe, with Spark wording', () => {
      let error: unknown;
      fromBatches([[at(1)]]).pipe(withWatermark('ts', 0), withWatermark('ts', 10)).subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toContain('Redefining watermark is disallowed.');
      expect((error as Error).message).toContain('spark.sql.streaming.statefulOperator.allowMultiple');
    });
  });
});
