import { map, of, pipe, Subject, take, throwError, NEVER, EMPTY } from 'rxjs';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { isResultBatch, type ResultBatch, type ResultTable } from '../../lib/batch/ResultBatch.js';
import { EventTimeError, InvalidDurationError, InvalidOptionError, UnsupportedOperationError, UserFunctionError, BatchSequenceError } from '../../lib/errors/index.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import type { LateRows } from '../../lib/types.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

type Ev = { ts: number; k?: string; v?: number };
const S = 1000;
const w = (start: number, end: number) => ({ start, end });
const summary = (b: Batch<unknown>) => ({ id: b.batchId, wm: b.watermark, rows: b.rows });
const tumbling5s = () => windowTumbling<Ev>()({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } });

describe('windowTumbling', () => {
  it('emits each window once in append mode when the watermark passes its end, dropping late rows', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---c---|', {
        a: batch(0, [at(10 * S), at(11 * S)]),
        b: batch(1, [at(25 * S)]),
        c: batch(2, [at(12 * S)]),
      });
      const out = input.pipe(withWatermark('ts', '10 seconds'), tumbling5s(), outputMode('append'), map(summary));
      expectObservable(out).toBe('a---b---c---|', {
        a: { id: 0, wm: 1 * S, rows: [] },
        b: { id: 1, wm: 15 * S, rows: [{ window: w(10 * S, 15 * S), n: 2 }] },
        c: { id: 2, wm: 15 * S, rows: [] },
      });
      expectSubscriptions(input.subscriptions).toBe('^-----------!');
    });
  });

  it('emits changed windows in update mode and the whole table in complete mode', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const values = { a: batch(0, [at(10 * S), at(11 * S)]), b: batch(1, [at(25 * S)]), c: batch(2, []) };
      const input = cold('a-b-c|', values);
      expectObservable(input.pipe(withWatermark('ts', '10 seconds'), tumbling5s(), outputMode('update'), map(summary))).toBe('a-b-c|', {
        a: { id: 0, wm: 1 * S, rows: [{ window: w(10 * S, 15 * S), n: 2 }] },
        b: { id: 1, wm: 15 * S, rows: [{ window: w(25 * S, 30 * S), n: 1 }] },
        c: { id: 2, wm: 15 * S, rows: [] },
      });
      expectObservable(input.pipe(withWatermark('ts', '10 seconds'), tumbling5s(), outputMode('complete'), map(summary))).toBe('a-b-c|', {
        a: { id: 0, wm: 1 * S, rows: [{ window: w(10 * S, 15 * S), n: 2 }] },
        b: { id: 1, wm: 15 * S, rows: [{ window: w(10 * S, 15 * S), n: 2 }, { window: w(25 * S, 30 * S), n: 1 }] },
        c: { id: 2, wm: 15 * S, rows: [{ window: w(10 * S, 15 * S), n: 2 }, { window: w(25 * S, 30 * S), n: 1 }] },
      });
    });
  });

  it('follows Spark step by step: late per window, state and dropped counts (EWS append mode)', () => {
    const late: LateRows<Ev>[] = [];
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', '10 seconds'), windowTumbling<Ev>()({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() }, onLateRows: (l) => late.push(l) }), outputMode('append')))
      .addData([at(10 * S), at(11 * S), at(12 * S), at(13 * S), at(14 * S), at(15 * S)]) // watermark after: 5s
      .checkNewAnswer([])
      .checkStateRows(2)
      .checkWatermark(5 * S)
      .addData([at(25 * S)]) // watermark after: 15s; [10s,15s) finalised
      .checkNewAnswer([{ window: w(10 * S, 15 * S), n: 5 }])
      .checkStateRows(2)
      .addData([at(25 * S)]) // watermark stays 15s
      .checkNewAnswer([])
      .checkStateRows(2)
      .addData([at(10 * S)]) // late: [10s,15s) ended at 15s <= 15s
      .checkNewAnswer([])
      .checkDroppedByWatermark(1)
      .addData([at(40 * S)]) // watermark after: 30s; [15s,20s) and [25s,30s) finalised
      .checkNewAnswer([{ window: w(15 * S, 20 * S), n: 1 }, { window: w(25 * S, 30 * S), n: 2 }])
      .checkStateRows(1)
      .stop();
    expect(late).toEqual([{ operatorId: expect.stringMatching(/^windowTumbling#\d+$/), batchId: 3, watermark: 15 * S, rows: [at(10 * S)] }]);
  });

  it('chains window agg -> window agg in append mode, the second windowing the first one\'s window column (MSO)', () => {
    streamTest<Ev, unknown>(
      pipe(
        withWatermark<Ev>('ts', 0),
        windowTumbling<Ev>()({ eventTime: 'ts', size: 5 * S, aggregate: { n: count() } }),
        windowTumbling({ eventTime: 'window', size: 10 * S, aggregate: { total: sum('n'), windows: count() } }),
        outputMode('append'),
      ),
    )
      .addData([at(1 * S), at(2 * S), at(6 * S)]) // watermark after: 6s; [0,5s) n 2 flows into [0,10s)
      .checkNewAnswer([])
      .addData([at(12 * S)]) // watermark after: 12s; [5s,10s) n 1 is not late downstream (10s > 6s); [0,10s) closes
      .checkNewAnswer([{ window: w(0, 10 * S), total: 3, windows: 2 }])
      .addData([at(30 * S)]) // watermark after: 30s
      .checkNewAnswer([{ window: w(10 * S, 20 * S), total: 1, windows: 1 }])
      .stop();
  });

  it('accepts an event older than the watermark when its window is still open (late per window, not per event)', () => {
    streamTest<Ev, unknown>(pipe(withWatermark<Ev>('ts', '5 seconds'), windowTumbling<Ev>()({ eventTime: 'ts', size: '10 seconds', aggregate: { n: count() } }), outputMode('update')))
      .addData([at(17 * S)]) // watermark after: 12s
      .addData([at(11 * S)]) // 11s < 12s, but [10s,20s) ends at 20s > 12s
      .checkNewAnswer([{ window: w(10 * S, 20 * S), n: 2 }])
      .checkDroppedByWatermark(0)
      .stop();
  });

  it('groups by key fields, with keys and aggregates in the row', () => {
    const [step] = runBatches(
      pipe(windowTumbling<Ev>()({ eventTime: 'ts', size: 10 * S, keyBy: 'k', aggregate: { n: count(), total: sum('v') } }), outputMode('complete')),
      [[at(1 * S, { k: 'a', v: 1 }), at(2 * S, { k: 'b', v: 2 }), at(3 * S, { k: 'a', v: 3 }), at(12 * S, { k: 'a', v: 4 })]],
    );
    expect(step!.rows).toEqual([
      { window: w(0, 10 * S), k: 'a', n: 2, total: 4 },
      { window: w(0, 10 * S), k: 'b', n: 1, total: 2 },
      { window: w(10 * S, 20 * S), k: 'a', n: 1, total: 4 },
    ]);
  });

  it('applies startTime offsets and windows timestamps before 1970 correctly', () => {
    const [step] = runBatches(pipe(windowTumbling<Ev>()({ eventTime: 'ts', size: '10 seconds', startTime: '5 seconds', aggregate: { n: count() } }), outputMode('complete')), [
      [at(-8 * S), at(-5 * S), at(4 * S), at(5 * S)],
    ]);
    expect(step!.rows).toEqual([
      { window: w(-15 * S, -5 * S), n: 1 },
      { window: w(-5 * S, 5 * S), n: 2 },
      { window: w(5 * S, 15 * S), n: 1 },
    ]);
  });

  it('keeps every window without a watermark (state grows, as in Spark)', () => {
    const steps = runBatches(pipe(tumbling5s(), outputMode('update')), [[at(1 * S)], [at(100 * S)], [at(1000 * S)]]);
    expect(steps.map((s) => s.metrics?.stateOperators?.[0]?.numRowsTotal)).toEqual([1, 2, 3]);
  });

  it('emits a ResultBatch carrying updated rows, finalised rows and the table', () => {
    const seen: { updated: readonly unknown[]; finalized: readonly unknown[]; table: ResultTable<unknown> }[] = [];
    const out: ResultBatch<unknown>[] = [];
    fromBatches([[at(1 * S), at(6 * S)], [at(30 * S), at(7 * S)]])
      .pipe(withWatermark('ts', 0), tumbling5s())
      .subscribe((b) => {
        out.push(b);
        seen.push({ updated: b.updated, finalized: b.finalized, table: b.table });
      });
    expect(isResultBatch(out[1])).toBe(true);
    expect(seen[0]!.updated).toEqual([{ window: w(0, 5 * S), n: 1 }, { window: w(5 * S, 10 * S), n: 1 }]);
    expect(out[0]!.rows).toEqual([{ window: w(0, 5 * S), n: 1 }]); // watermark 6s already closes [0,5s)
    expect(seen[1]!.updated).toEqual([{ window: w(30 * S, 35 * S), n: 1 }, { window: w(5 * S, 10 * S), n: 2 }]);
    expect(seen[1]!.finalized).toEqual([{ window: w(5 * S, 10 * S), n: 2 }]);
    expect(seen[1]!.table.toArray()).toEqual([{ window: w(30 * S, 35 * S), n: 1 }]);
    expect(seen[1]!.table.size).toBe(1);
    // A table taken during an earlier batch is a snapshot: it still shows that batch's result.
    expect(seen[0]!.table.toArray()).toEqual([{ window: w(5 * S, 10 * S), n: 1 }]);
    expect(out[1]!.eventTime).toEqual({ field: 'window', isWindow: true, delayMs: 0 });
  });

  it('refuses to build ResultBatch.updated after later batches updated the state in place', () => {
    const out: ResultBatch<unknown>[] = [];
    fromBatches([[at(1 * S)], [at(2 * S)]]).pipe(tumbling5s()).subscribe((b) => out.push(b));
    expect(() => out[0]!.updated).toThrow('windowTumbling: ResultBatch.updated was read after a later batch was processed;');
    expect(out[1]!.updated).toEqual([{ window: w(0, 5 * S), n: 2 }]);
  });

  it('passes an empty batch through with its id and keeps batch ids in order', () => {
    const steps = runBatches(pipe(withWatermark<Ev>('ts', 0), tumbling5s(), outputMode('update')), [[], [at(1 * S)], [], []]);
    expect(steps.map((s) => [s.batchId, s.rows.length, s.watermark])).toEqual([[0, 0, 0], [1, 1, 1 * S], [2, 0, 1 * S], [3, 0, 1 * S]]);
  });

  it('evicts state once the watermark passes, visible in the metrics', () => {
    const steps = runBatches(pipe(withWatermark<Ev>('ts', 0), tumbling5s(), outputMode('append')), [[at(1 * S), at(2 * S)], [at(7 * S)], [at(20 * S)]]);
    const m = steps.map((s) => s.metrics!.stateOperators![0]!);
    expect(m.map((x) => [x.numRowsTotal, x.numRowsUpdated, x.numRowsRemoved])).toEqual([[1, 1, 0], [1, 1, 1], [1, 1, 1]]);
    expect(m[0]!.memoryUsedBytes).toBeGreaterThan(0);
  });

  it('does not mutate the input batch', () => {
    const rows = Object.freeze([Object.freeze(at(1 * S, { k: 'a', v: 1 })), Object.freeze(at(2 * S, { k: 'a', v: 2 }))]);
    const input: Batch<Ev> = Object.freeze({ batchId: 0, rows, watermark: 0 });
    let out: readonly unknown[] = [];
    of(input).pipe(windowTumbling<Ev>()({ eventTime: 'ts', size: 5 * S, keyBy: 'k', aggregate: { total: sum('v') } }), outputMode('complete')).subscribe((b) => (out = b.rows));
    expect(out).toEqual([{ window: w(0, 5 * S), k: 'a', total: 3 }]);
  });

  it('keeps separate state per subscription', () => {
    const subject = new Subject<Batch<Ev>>();
    const counts$ = subject.pipe(tumbling5s(), outputMode('complete'));
    const a: unknown[] = [];
    const b: unknown[] = [];
    counts$.subscribe((x) => a.push(x.rows));
    subject.next(batch(0, [at(1 * S)]));
    counts$.subscribe((x) => b.push(x.rows));
    subject.next(batch(1, [at(2 * S)]));
    expect(a).toEqual([[{ window: w(0, 5 * S), n: 1 }], [{ window: w(0, 5 * S), n: 2 }]]);
    expect(b).toEqual([[{ window: w(0, 5 * S), n: 1 }]]);
  });

  it('completes, stays open, and handles an empty source like its input', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Batch<never>>('|').pipe(tumbling5s())).toBe('|');
      expectObservable(cold<Batch<never>>('-').pipe(tumbling5s())).toBe('-');
    });
    let done = false;
    EMPTY.pipe(tumbling5s()).subscribe({ complete: () => (done = true) });
    expect(done).toBe(true);
    const sub = NEVER.pipe(tumbling5s()).subscribe();
    expect(sub.closed).toBe(false);
    sub.unsubscribe();
  });

  it('forwards source errors and unsubscribes early with the chain intact', () => {
    createTestScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failing = cold('a-#', { a: batch(0, [at(1 * S)]) }, new Error('boom'));
      expectObservable(failing.pipe(tumbling5s(), outputMode('update'), map((b) => b.rows.length))).toBe('a-#', { a: 1 }, new Error('boom'));
      const source = hot('-a-b-c-', { a: batch(0, [at(1 * S)]), b: batch(1, [at(2 * S)]), c: batch(2, [at(3 * S)]) });
      expectObservable(source.pipe(tumbling5s(), outputMode('update'), map((b) => b.batchId)), '^--!').toBe('-a-', { a: 0 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    let error: unknown;
    throwError(() => new Error('x')).pipe(tumbling5s()).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('x');
  });

  it('stops a synchronous firehose once take has enough', () => {
    let emitted = 0;
    const firehose = fromBatches(
      (function* () {
        for (let i = 0; i < 1_000_000; i++) {
          emitted++;
          yield [at(i * S)];
        }
      })(),
    );
    const out: number[] = [];
    firehose.pipe(tumbling5s(), outputMode('update'), take(3)).subscribe((b) => out.push(b.batchId));
    expect(out).toEqual([0, 1, 2]);
    expect(emitted).toBe(3);
  });

  it('turns a throwing keyBy or aggregator into a UserFunctionError naming the batch', () => {
    let error: unknown;
    fromBatches([[at(1 * S)], [at(2 * S)]])
      .pipe(
        windowTumbling<Ev>()({
          eventTime: 'ts',
          size: 5 * S,
          keyBy: (r) => {
            if (r.ts === 2 * S) throw new Error('bad key');
            return r.ts;
          },
          aggregate: { n: count() },
        }),
      )
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as Error).message).toBe('windowTumbling: a user function threw while processing batch 1: Error: bad key');
  });

  it('raises an EventTimeError for a missing event time, or drops and counts it when asked', () => {
    let error: unknown;
    fromBatches([[{ ts: 'soon' } as unknown as Ev]]).pipe(tumbling5s()).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(EventTimeError);
    expect((error as Error).message).toContain('windowTumbling: event time ts is not a valid time in batch 0, row 0; got "soon"');
    const [step] = runBatches(pipe(windowTumbling<Partial<Ev>>()({ eventTime: 'ts', size: 5 * S, aggregate: { n: count() }, onInvalidEventTime: 'drop' }), outputMode('complete')), [[{}, at(1 * S)]]);
    expect(step!.rows).toEqual([{ window: w(0, 5 * S), n: 1 }]);
    expect(step!.metrics?.numRowsDroppedInvalidEventTime).toBe(1);
  });

  it('reads Date and ISO-8601 event times', () => {
    const [step] = runBatches(pipe(windowTumbling<{ t: Date | string }>()({ eventTime: 't', size: '1 minute', aggregate: { n: count() } }), outputMode('complete')), [
      [{ t: new Date('2020-01-01T00:00:30Z') }, { t: '2020-01-01T00:00:59' }],
    ]);
    const start = Date.UTC(2020, 0, 1);
    expect(step!.rows).toEqual([{ window: w(start, start + 60_000), n: 2 }]);
  });

  it('rejects decreasing batch ids', () => {
    let error: unknown;
    of(batch(1, [at(1)]), batch(0, [at(2)])).pipe(tumbling5s()).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(BatchSequenceError);
  });

  it('needs no processing time: output depends only on batches and watermarks', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a 10s b|', { a: batch(0, [at(1 * S)]), b: batch(1, [at(2 * S)]) });
      expectObservable(input.pipe(tumbling5s(), outputMode('complete'), map((b) => b.rows))).toBe('a 10s b|', {
        a: [{ window: w(0, 5 * S), n: 1 }],
        b: [{ window: w(0, 5 * S), n: 2 }],
      });
    });
  });

  it('keeps state bounded over 1,000,000 rows and a long event-time span with a watermark', () => {
    const rowsPerBatch = 10_000;
    let maxState = 0;
    let emittedWindows = 0;
    let totalCount = 0;
    const batches = (function* () {
      for (let b = 0; b < 100; b++) {
        const rows: Ev[] = new Array(rowsPerBatch);
        // 1 s of event time per row: 1,000,000 s (11.5 days) overall, 10 keys.
        for (let i = 0; i < rowsPerBatch; i++) rows[i] = { ts: (b * rowsPerBatch + i) * S, k: `k${i % 10}` };
        yield rows;
      }
    })();
    fromBatches(batches)
      .pipe(withWatermark('ts', '1 minute'), windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'k', aggregate: { n: count() } }), outputMode('append'))
      .subscribe((b) => {
        maxState = Math.max(maxState, b.metrics!.stateOperators![0]!.numRowsTotal);
        emittedWindows += b.rows.length;
        for (const r of b.rows) totalCount += r.n;
      });
    // Each batch spans about 167 minutes: at most ~18 windows x 10 keys are ever open at once.
    expect(maxState).toBeLessThanOrEqual(20 * 10);
    expect(emittedWindows).toBeGreaterThan(16_000);
    expect(totalCount).toBeGreaterThan(999_000);
  });

  describe('misconfiguration', () => {
    it('returns itself when called with no arguments (windowTumbling<Row>()) and rejects undefined options', () => {
      expect(windowTumbling<Ev>()).toBe(windowTumbling);
      expect(() => windowTumbling(undefined as never)).toThrow('windowTumbling: size is required; got undefined.');
    });

    it('rejects a bad size, startTime or months, with the option named', () => {
      expect(() => windowTumbling<Ev>()({ eventTime: 'ts', size: '0 seconds', aggregate: { n: count() } })).toThrow('windowTumbling: size must be positive; got "0 seconds" (0 ms).');
      expect(() => windowTumbling<Ev>()({ eventTime: 'ts', size: '1 month', aggregate: { n: count() } })).toThrow(InvalidDurationError);
      expect(() => windowTumbling<Ev>()({ eventTime: 'ts', size: '10 seconds', startTime: '-10 seconds', aggregate: { n: count() } })).toThrow(
        'windowTumbling: startTime must be less than slide in absolute value; got startTime "-10 seconds" (-10000 ms), slide "10 seconds" (10000 ms).',
      );
    });

    it('rejects a missing aggregate, a bad key and a bad event-time spec', () => {
      expect(() => windowTumbling<Ev>()({ eventTime: 'ts', size: 5, aggregate: {} })).toThrow(InvalidOptionError);
      expect(() => windowTumbling<Ev>()({ eventTime: 'ts', size: 5, keyBy: 7 as unknown as 'k', aggregate: { n: count() } })).toThrow('windowTumbling: keyBy must be');
      expect(() => windowTumbling<Ev>()({ eventTime: '' as 'ts', size: 5, aggregate: { n: count() } })).toThrow('windowTumbling: eventTime must be a field name, { field, unit?, format? } or a function of the row');
      expect(() => windowTumbling<Ev>()({ eventTime: 'ts', size: 5, keyBy: 'k', aggregate: { k: count() } })).toThrow('windowTumbling: aggregate.k clashes with a column of the result row');
    });

    it('rejects a stateful operator after an aggregation in update mode, with Spark wording', () => {
      let error: unknown;
      fromBatches([[at(1 * S)]])
        .pipe(withWatermark('ts', 0), tumbling5s(), outputMode('update'), windowTumbling({ eventTime: 'window', size: '10 seconds', aggregate: { m: count() } }))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toContain("Detected pattern of possible 'correctness' issue due to global watermark.");
      // Also when a foreign operator hides the plan: detected at the first batch.
      let error2: unknown;
      fromBatches([[at(1 * S)]])
        .pipe(withWatermark('ts', 0), tumbling5s(), outputMode('complete'), map((b) => b), windowTumbling({ eventTime: 'window', size: '10 seconds', aggregate: { m: count() } }))
        .subscribe({ error: (e: unknown) => (error2 = e) });
      expect((error2 as Error).message).toContain("Detected pattern of possible 'correctness' issue due to global watermark.");
    });
  });
});
