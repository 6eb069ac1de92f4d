import { inQueryContext } from '../../lib/internal/pipeline.js';
import { Observable, Subject, map, of, pipe, take, throwError, type OperatorFunction } from 'rxjs';
import { dropDuplicates } from '../../operators/dropDuplicates.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { BatchSequenceError, ColumnNotFoundError, InvalidOptionError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import { withPlan, EMPTY_PLAN } from '../helpers/plan.js';
import { type QueryContext, type StatefulOperatorSpec } from '../../lib/state/StateStore.js';
import { dedupeCodec, type DedupeState } from '../../lib/dedupe/DedupeState.js';
import type { LateRows } from '../../lib/types.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Ev = { id: number; ts: number };
const ev = (id: number, ts: number): Ev => ({ id, ts });
/** Keeps what a marble comparison should look at: id, rows, watermark. */
const view = <T>(): OperatorFunction<Batch<T>, { batchId: number; rows: readonly T[]; watermark: number }> => map((b) => ({ batchId: b.batchId, rows: b.rows, watermark: b.watermark }));
const stateOf = (b: { metrics?: Batch<unknown>['metrics'] } | undefined) => b?.metrics?.stateOperators?.[b.metrics.stateOperators.length - 1];

describe('dropDuplicates', () => {
  it('emits the first row per key, drops late rows and evicts keys once the watermark passes their event time', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a---b---c---|', {
        a: batch(0, [ev(1, 10_000), ev(1, 10_000), ev(2, 12_000)]),
        b: batch(1, [ev(3, 25_000)]),
        c: batch(2, [ev(2, 12_000), ev(4, 30_000)]),
      });
      const out = input.pipe(withWatermark<Ev>('ts', '10 seconds'), dropDuplicates<Ev>(['id', 'ts']), view());
      expectObservable(out).toBe('a---b---c---|', {
        a: { batchId: 0, rows: [ev(1, 10_000), ev(2, 12_000)], watermark: 2_000 },
        b: { batchId: 1, rows: [ev(3, 25_000)], watermark: 15_000 },
        c: { batchId: 2, rows: [ev(4, 30_000)], watermark: 20_000 },
      });
      expectSubscriptions(input.subscriptions).toBe('^-----------!');
    });
  });

  it('reports eviction and late rows through the state metrics', () => {
    const steps = runBatches(
      (s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', '10 seconds'), dropDuplicates<Ev>(['id', 'ts'])),
      [[ev(1, 10_000), ev(1, 10_000), ev(2, 12_000)], [ev(3, 25_000)], [ev(2, 12_000), ev(4, 30_000)], []],
    );
    expect(steps.map((s) => stateOf(s))).toMatchObject([
      { operatorName: 'dropDuplicates', numRowsTotal: 2, numRowsUpdated: 2, numRowsRemoved: 0, numRowsDroppedByWatermark: 0, customMetrics: { numDroppedDuplicateRows: 1 } }, // wm 2s
      { numRowsTotal: 1, numRowsUpdated: 1, numRowsRemoved: 2, numRowsDroppedByWatermark: 0 }, // wm 15s evicts @10s and @12s
      { numRowsTotal: 2, numRowsUpdated: 1, numRowsRemoved: 0, numRowsDroppedByWatermark: 1 }, // wm 20s: @12s is late
      { numRowsTotal: 2, numRowsUpdated: 0, numRowsRemoved: 0, numRowsDroppedByWatermark: 0 }, // empty batch
    ]);
    expect(stateOf(steps[0])!.memoryUsedBytes).toBeGreaterThan(0);
  });

  it('keeps the first row of a key in arrival order within one batch, whatever the other columns hold', () => {
    const [step] = runBatches(dropDuplicates<{ k: string; v: number }>('k'), [[{ k: 'a', v: 2 }, { k: 'b', v: 1 }, { k: 'a', v: 1 }, { k: 'b', v: 0 }]]);
    expect(step!.rows).toEqual([{ k: 'a', v: 2 }, { k: 'b', v: 1 }]);
  });

  it('uses the whole row as key when no keys are given (field order does not matter; a null field is a missing one)', () => {
    const steps = runBatches(dropDuplicates<Record<string, unknown>>(), [[{ a: 1, b: 'x' }, { b: 'x', a: 1 }, { a: 1, b: 'y' }], [{ a: 1, b: 'x' }, { a: 1, b: 'x', c: null }, { a: 1, b: 'x', c: 0 }]]);
    // As in Spark, where every row has every column: { a: 1, b: 'x' } has c = null, so { a: 1, b: 'x', c: null } is the same row.
    expect(steps.map((s) => s.rows)).toEqual([[{ a: 1, b: 'x' }, { a: 1, b: 'y' }], [{ a: 1, b: 'x', c: 0 }]]);
  });

  it('deduplicates primitive rows, Dates by time, and keys computed by a function', () => {
    expect(runBatches(dropDuplicates<string>(), [['a', 'b', 'a'], ['b', 'c']]).map((s) => s.rows)).toEqual([['a', 'b'], ['c']]);
    const d = (ms: number) => ({ at: new Date(ms) });
    expect(runBatches(dropDuplicates<{ at: Date }>('at'), [[d(1), d(1), d(2)]])[0]!.rows).toEqual([d(1), d(2)]);
    const byLower = dropDuplicates<{ user: string }>((r) => r.user.toLowerCase());
    expect(runBatches(byLower, [[{ user: 'Ann' }, { user: 'ANN' }, { user: 'bob' }]])[0]!.rows).toEqual([{ user: 'Ann' }, { user: 'bob' }]);
  });

  it('keeps values of different types apart (1 vs "1", field boundaries) and treats null, undefined and a missing field as one SQL null', () => {
    const rows = [{ a: 1, b: 'x' }, { a: '1', b: 'x' }, { a: null, b: 'x' }, { a: undefined, b: 'x' }, { b: 'x' }, { a: '1,"x"', b: '' }, { a: '1', b: ',"x"' }];
    expect(runBatches(dropDuplicates<Record<string, unknown>>(['a', 'b']), [rows])[0]!.rows).toEqual([rows[0], rows[1], rows[2], rows[5], rows[6]]);
    expect(runBatches(dropDuplicates<Record<string, unknown>>('a'), [[{ a: null, n: 1 }, { n: 2 }, { a: undefined, n: 3 }]])[0]!.rows).toEqual([{ a: null, n: 1 }]);
  });

  it('reads key columns named like Object members (constructor, toString) as ordinary columns beside a watermarked key: missing is null', () => {
    type R = Record<string, unknown>;
    const rows: R[] = [{ ts: 1000 }, { ts: 1000, constructor: null }, { ts: 1000, constructor: 'a' }];
    const two = runBatches(pipe(withWatermark<R>('ts', '1 second'), dropDuplicates<R>(['ts', 'constructor'], { checkColumns: false })), [rows, [{ ts: 1000, toString: 'x' }]]);
    expect(two.map((b) => b.rows)).toEqual([[rows[0], rows[2]], []]);
    const three = runBatches(pipe(withWatermark<R>('ts', '1 second'), dropDuplicates<R>(['ts', 'constructor', 'toString'], { checkColumns: false })), [rows]);
    expect(three[0]!.rows).toEqual([rows[0], rows[2]]);
  });

  it('remembers every key for ever without a watermark (state grows)', () => {
    const test = streamTest(dropDuplicates<Ev>('id'));
    for (let i = 0; i < 5; i++) test.addData([ev(i, i * 1_000_000)]).checkStateRows(i + 1);
    test.addData([ev(0, 99_000_000)]).checkNewAnswer([]).checkStateRows(5).stop();
  });

  it('drops late rows but never evicts when the event-time column is not a key (SPARK-21546)', () => {
    const late: LateRows<Ev>[] = [];
    streamTest((s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', '1 second'), dropDuplicates<Ev>('id', { onLateRows: (l) => late.push(l) })))
      .addData([ev(1, 1_000), ev(1, 2_000), ev(2, 2_000)]) // wm 1s
      .checkNewAnswer([ev(1, 1_000), ev(2, 2_000)])
      .checkStateRows(2)
      .addData([ev(3, 60_000)]) // wm 59s: nothing evicted, the time is not part of the key
      .checkNewAnswer([ev(3, 60_000)])
      .checkStateRows(3)
      .addData([ev(4, 5_000), ev(1, 70_000)]) // 5s <= 59s is late; id 1 is still remembered
      .checkNewAnswer([])
      .checkDroppedByWatermark(1)
      .checkStateRows(3)
      .stop();
    expect(late).toEqual([{ operatorId: expect.stringMatching(/^dropDuplicates#\d+$/), batchId: 2, watermark: 59_000, rows: [ev(4, 5_000)] }]);
  });

  it('hands late rows to an Observer side output', () => {
    const late$ = new Subject<LateRows<Ev>>();
    const seen: number[] = [];
    late$.subscribe((l) => seen.push(...l.rows.map((r) => r.ts)));
    runBatches((s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', 0), dropDuplicates<Ev>(undefined, { onLateRows: late$, name: 'dedup' })), [[ev(1, 50)], [ev(2, 40), ev(3, 50), ev(4, 51)]]);
    expect(seen).toEqual([40, 50]);
  });

  it('evicts windows by their end when the window column is a key', () => {
    type W = { window: { start: number; end: number }; n: number };
    const w = (start: number, n = 0): W => ({ window: { start, end: start + 10 }, n });
    const marker = { field: 'window', isWindow: true, delayMs: 0 };
    const input = [batch<W>(0, [w(0), w(0, 1), w(10)], 10, { eventTime: marker }), batch<W>(1, [w(10, 5), w(20)], 10, { eventTime: marker })];
    const out: Batch<W>[] = [];
    of(...input).pipe(dropDuplicates<W>(['window'])).subscribe((b) => out.push(b));
    expect(out.map((b) => [b.rows, stateOf(b)?.numRowsTotal])).toEqual([[[w(0), w(10)], 1], [[w(20)], 2]]);
  });

  describe('Spark StreamingDeduplicationSuite', () => {
    it('deduplicate with all columns', () => {
      streamTest(dropDuplicates<string>())
        .addData(['a']).checkNewAnswer(['a']).checkStateRows(1)
        .addData(['a']).checkNewAnswer([]).checkStateRows(1)
        .addData(['b']).checkNewAnswer(['b']).checkStateRows(2)
        .stop();
    });

    it('deduplicate with some columns', () => {
      type P = { _1: string; _2: number };
      streamTest(dropDuplicates<P>('_1'))
        .addData([{ _1: 'a', _2: 1 }]).checkNewAnswer([{ _1: 'a', _2: 1 }]).checkStateRows(1).checkDroppedByWatermark(0)
        .addData([{ _1: 'a', _2: 2 }]).checkNewAnswer([]).checkStateRows(1)
        .addData([{ _1: 'b', _2: 1 }]).checkNewAnswer([{ _1: 'b', _2: 1 }]).checkStateRows(2)
        .stop();
    });

    it('multiple deduplicates', () => {
      type P = { _1: string; _2: number };
      const test = streamTest((s: Observable<Batch<P>>) => s.pipe(dropDuplicates<P>(undefined, { name: 'all' }), dropDuplicates<P>('_1', { name: 'first' })));
      test.addData([{ _1: 'a', _2: 1 }]).checkNewAnswer([{ _1: 'a', _2: 1 }]);
      expect(test.stateOperators().map((m) => [m.numRowsTotal, m.numRowsUpdated])).toEqual([[1, 1], [1, 1]]);
      test.addData([{ _1: 'a', _2: 2 }]).checkNewAnswer([]);
      expect(test.stateOperators().map((m) => [m.numRowsTotal, m.numRowsUpdated])).toEqual([[2, 1], [1, 0]]);
      test.addData([{ _1: 'b', _2: 1 }]).checkNewAnswer([{ _1: 'b', _2: 1 }]);
      expect(test.stateOperators().map((m) => [m.operatorId, m.numRowsTotal, m.numRowsUpdated])).toEqual([['all', 3, 1], ['first', 2, 1]]);
      test.stop();
    });

    it('deduplicate with watermark (and the SPARK-35896 metrics)', () => {
      const s = (v: number) => ({ eventTime: v * 1000 });
      const test = streamTest((x: Observable<Batch<{ eventTime: number }>>) => x.pipe(withWatermark<{ eventTime: number }>('eventTime', '10 seconds'), dropDuplicates<{ eventTime: number }>()));
      const tens = [10, 11, 12, 13, 14, 15];
      test.addData([1, 2, 3, 4, 5].flatMap(() => tens.map(s))).checkNewAnswer(tens.map(s)).checkStateRows(6);
      expect(test.stateOperators()[0]).toMatchObject({ numRowsUpdated: 6, numRowsRemoved: 0, customMetrics: { numDroppedDuplicateRows: 24 } });
      test.addData([s(25)]).checkNewAnswer([s(25)]).checkWatermark(15_000).checkStateRows(1); // drops rows <= 15 s
      expect(test.stateOperators()[0]).toMatchObject({ numRowsUpdated: 1, numRowsRemoved: 6 });
      test.addData([s(10)]).checkNewAnswer([]).checkStateRows(1).checkDroppedByWatermark(1); // less than the watermark
      test.addData([s(45)]).checkNewAnswer([s(45)]).checkWatermark(35_000).checkStateRows(1); // drops 25
      test.stop();
    });

    it('SPARK-19841: the watermark predicate filters on the key', () => {
      type R = { time: number; id: number };
      const r = (time: number, id: number): R => ({ time: time * 1000, id });
      streamTest((x: Observable<Batch<R>>) => x.pipe(withWatermark<R>('time', '1 second'), dropDuplicates<R>(['id', 'time'])))
        .addData([r(1, 1), r(1, 1), r(1, 2)]).checkNewAnswer([r(1, 1), r(1, 2)]) // wm 0
        .addData([r(1, 1), r(2, 3), r(2, 4)]).checkNewAnswer([r(2, 3), r(2, 4)]) // wm 1s
        .addData([r(1, 0), r(1, 1), r(3, 5), r(3, 6)]).checkNewAnswer([r(3, 5), r(3, 6)]).checkDroppedByWatermark(2) // wm 2s
        .addData([r(1, 0), r(4, 7)]).checkNewAnswer([r(4, 7)]).checkDroppedByWatermark(1)
        .stop();
    });

    it('SPARK-35880: numDroppedDuplicateRows counts duplicates, not late rows', () => {
      const test = streamTest(dropDuplicates<{ _1: string; _2: number }>('_1'));
      const dropped = () => test.stateOperators()[0]!.customMetrics!.numDroppedDuplicateRows;
      test.addData([{ _1: 'a', _2: 1 }]);
      expect(dropped()).toBe(0);
      test.addData([{ _1: 'a', _2: 2 }, { _1: 'b', _2: 3 }]);
      expect(dropped()).toBe(1);
      test.addData([{ _1: 'a', _2: 5 }, { _1: 'b', _2: 2 }, { _1: 'c', _2: 9 }]).checkNewAnswer([{ _1: 'c', _2: 9 }]);
      expect(dropped()).toBe(2);
      test.stop();
    });
  });

  describe('checkpointed state', () => {
    function context(restored?: { batchId: number; state: DedupeState }) {
      const published: { batchId: number; state: DedupeState; changed: string[] }[] = [];
      const specs: StatefulOperatorSpec<unknown>[] = [];
      const ctx: QueryContext = {
        queryId: 'q',
        runId: 'r',
        scheduler: undefined as never,
        registerState: <S>(spec: StatefulOperatorSpec<S>) => {
          specs.push(spec as StatefulOperatorSpec<unknown>);
          return { operatorId: spec.id, restored: restored as never, publish: (batchId: number, state: S, changed: Iterable<string>) => published.push({ batchId, state: state as unknown as DedupeState, changed: [...changed] }) };
        },
      };
      return { ctx, published, specs };
    }

    it('registers its state, publishes it once per batch with the changed keys, and round-trips through the codec', () => {
      const { ctx, published, specs } = context();
      const out: Batch<Ev>[] = [];
      fromBatches([[ev(1, 10_000), ev(2, 11_000)], [ev(3, 30_000)], []]).pipe(inQueryContext(ctx), withWatermark<Ev>('ts', '5 seconds'), dropDuplicates<Ev>(['id', 'ts'])).subscribe((b) => out.push(b));
      expect(specs.map((s) => [s.kind, s.descriptor])).toEqual(expect.arrayContaining([['watermark', { field: 'ts', delayMs: 5000 }], ['dropDuplicates', { keys: ['id', 'ts'] }]]));
      const mine = published.filter((p) => p.state !== undefined && typeof (p.state as { segments?: unknown }).segments === 'object');
      expect(mine.map((p) => [p.batchId, p.changed])).toEqual([[0, ['@watermark', 'g0']], [1, ['@watermark', 'g1', 'g0']], [2, []]]);
      const last = mine[2]!.state;
      const copy = dedupeCodec.fromEntries(dedupeCodec.entries(last));
      expect([...dedupeCodec.entries(copy)]).toEqual([...dedupeCodec.entries(last)]);
      expect(dedupeCodec.get(last, 'g1')).toEqual({ keys: ['s3,30000'], times: [30_000] });
      expect(dedupeCodec.get(last, 'g0')).toBeUndefined();
      expect(out[1]!.rows).toEqual([ev(3, 30_000)]);
    });

    it('restores keys and the late-events watermark, and skips batches already in the state', () => {
      const first = context();
      fromBatches([[ev(1, 10_000), ev(2, 40_000)]]).pipe(inQueryContext(first.ctx), withWatermark<Ev>('ts', '5 seconds'), dropDuplicates<Ev>(['id', 'ts'])).subscribe();
      const saved = first.published.filter((p) => typeof (p.state as { segments?: unknown }).segments === 'object').pop()!;
      const restored = dedupeCodec.fromEntries(JSON.parse(JSON.stringify([...dedupeCodec.entries(saved.state)])) as [string, unknown][]);
      const second = context({ batchId: 0, state: restored });
      const out: Batch<Ev>[] = [];
      const input = [batch(0, [ev(9, 50_000)], 35_000, { eventTime: { field: 'ts', isWindow: false, delayMs: 5000 } }), batch(1, [ev(2, 40_000), ev(1, 36_000), ev(3, 20_000), ev(4, 41_000)], 36_000, { eventTime: { field: 'ts', isWindow: false, delayMs: 5000 } })];
      of(...input).pipe(inQueryContext(second.ctx), dropDuplicates<Ev>(['id', 'ts'])).subscribe((b) => out.push(b));
      expect(out.map((b) => b.batchId)).toEqual([1]);
      expect(out[0]!.rows).toEqual([ev(1, 36_000), ev(4, 41_000)]); // id 2 @40s remembered; id 3 @20s late against the restored 35s
      expect(stateOf(out[0])).toMatchObject({ numRowsDroppedByWatermark: 1, numRowsTotal: 2, numRowsRemoved: 1 });
    });
  });

  describe('stream contract', () => {
    it('passes an empty batch through with its id, watermark and marker', () => {
      const marker = { field: 'ts', isWindow: false, delayMs: 0 };
      const out: Batch<Ev>[] = [];
      of(batch<Ev>(3, [], 7, { eventTime: marker })).pipe(dropDuplicates<Ev>()).subscribe((b) => out.push(b));
      expect(out[0]).toMatchObject({ batchId: 3, rows: [], watermark: 7, eventTime: marker });
    });

    it('completes, stays silent when the source never completes, and completes empty', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Batch<unknown>>('-|').pipe(dropDuplicates())).toBe('-|');
        expectObservable(cold('-a-', { a: batch(0, ['x']) }).pipe(dropDuplicates<string>(), view())).toBe('-a-', { a: { batchId: 0, rows: ['x'], watermark: 0 } });
      });
    });

    it('unsubscribes from the source when the consumer unsubscribes', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const input = cold('a-b-c-d', { a: batch(0, ['a']), b: batch(1, ['b']), c: batch(2, ['c']), d: batch(3, ['d']) });
        expectObservable(input.pipe(dropDuplicates<string>(), map((b) => b.rows.join())), '^--!').toBe('a-b', { a: 'a', b: 'b' });
        expectSubscriptions(input.subscriptions).toBe('^--!');
      });
    });

    it('does no more work for a synchronous firehose once take has enough', () => {
      let emitted = 0;
      let keyed = 0;
      const firehose = new Observable<Batch<number>>((subscriber) => {
        for (let i = 0; i < 1000 && !subscriber.closed; i++) {
          emitted++;
          subscriber.next(batch(i, [i % 3]));
        }
      });
      const got: number[][] = [];
      firehose.pipe(dropDuplicates<number>((n) => (keyed++, n)), take(3)).subscribe((b) => got.push([...b.rows]));
      expect(got).toEqual([[0], [1], [2]]);
      // batchSubscriber hands the source a plain Observer, so a synchronous source only sees
      // the unsubscription once its loop returns; the operator ignores every batch after it.
      expect(keyed).toBe(3);
      expect(emitted).toBeGreaterThanOrEqual(3);
    });

    it('forwards source errors, rejects decreasing batch ids and wraps a throwing key function', () => {
      const errors: unknown[] = [];
      throwError(() => new Error('boom')).pipe(dropDuplicates()).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(1, ['a']), batch(0, ['b'])).pipe(dropDuplicates<string>()).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(0, [{ u: 'a' }, {}])).pipe(dropDuplicates<{ u?: string }>((r) => r.u!.toUpperCase())).subscribe({ error: (e: unknown) => errors.push(e) });
      expect((errors[0] as Error).message).toBe('boom');
      expect(errors[1]).toBeInstanceOf(BatchSequenceError);
      expect(errors[2]).toBeInstanceOf(UserFunctionError);
      expect(errors[2]).toMatchObject({ operator: 'dropDuplicates', batchId: 0 });
    });

    it('does not mutate the input batch', () => {
      const rows = Object.freeze([Object.freeze(ev(1, 1)), Object.freeze(ev(1, 1))]);
      const input = Object.freeze(batch(0, rows));
      const out: Batch<Ev>[] = [];
      of(input).pipe(dropDuplicates<Ev>('id')).subscribe((b) => out.push(b));
      expect(out[0]!.rows).toEqual([ev(1, 1)]);
      expect(input.rows).toHaveLength(2);
    });

    it('keeps separate state per subscription', () => {
      const subject = new Subject<Batch<string>>();
      const dedup$ = subject.pipe(dropDuplicates<string>());
      const a: string[][] = [];
      const b: string[][] = [];
      dedup$.subscribe((x) => a.push([...x.rows]));
      subject.next(batch(0, ['x']));
      dedup$.subscribe((x) => b.push([...x.rows]));
      subject.next(batch(1, ['x', 'y']));
      expect(a).toEqual([['x'], ['y']]);
      expect(b).toEqual([['x', 'y']]);
    });
  });

  it('evicts by a watermarked column given with a format, as by a plain one (the key holds it by name)', () => {
    type F = { id: string; ts: string };
    const ts = { field: 'ts', format: 'dd-MM-yyyy-HH-mm' } as const;
    const steps = runBatches(pipe(withWatermark<F>(ts, '10 minutes'), dropDuplicates<F>(['id', 'ts'])), [
      [{ id: 'a', ts: '02-03-2018-10-01' }, { id: 'a', ts: '02-03-2018-10-01' }],
      [{ id: 'b', ts: '02-03-2018-11-30' }],
      [{ id: 'a', ts: '02-03-2018-10-01' }],
    ]);
    expect(steps.map((s) => s.rows.length)).toEqual([1, 1, 0]);
    // Batch 1's watermark (11:20) passes 10:01: the key leaves the state; batch 2's row is late and dropped.
    expect(steps.map((s) => stateOf(s)?.numRowsTotal)).toEqual([1, 1, 1]);
    expect(steps.map((s) => stateOf(s)?.numRowsRemoved)).toEqual([0, 1, 0]);
    expect(stateOf(steps[2])?.numRowsDroppedByWatermark).toBe(1);
  });

  describe('column checks', () => {
    type Loose = Record<string, unknown>;
    const errorOf = (run: (report: (e: unknown) => void) => void): unknown => {
      let error: unknown;
      run((e) => (error = e));
      return error;
    };

    it('without a schema, fails on the first non-empty batch in which no row has a key field, naming the field, the batch and the columns present', () => {
      const out: Loose[][] = [];
      const error = errorOf((report) =>
        fromBatches<Loose>([[], [{ id: 1, ts: 1 }, { id: 2, ts: 2, extra: true }]])
          .pipe(dropDuplicates<Loose>(['id', 'acton']))
          .subscribe({ next: (b) => out.push([...b.rows]), error: report }),
      );
      expect(out).toEqual([[]]); // the empty batch passes
      expect(error).toBeInstanceOf(ColumnNotFoundError);
      expect((error as Error).message).toBe(
        "dropDuplicates: cannot resolve 'acton' in batch 1: no row has it; input columns present: [id, ts, extra] (keys). If the field may be absent from a whole batch (sparse data), pass checkColumns: false.",
      );
      expect((error as ColumnNotFoundError).batchId).toBe(1);
    });

    it('accepts a key field that only some rows of a batch have, and with checkColumns: false one that none has (the null key)', () => {
      const [some] = runBatches(dropDuplicates<Loose>(['id', 'tag']), [[{ id: 1 }, { id: 1, tag: 'a' }, { id: 1 }]]);
      expect(some!.rows).toEqual([{ id: 1 }, { id: 1, tag: 'a' }]);
      const [sparse] = runBatches(dropDuplicates<Loose>(['id', 'tag'], { checkColumns: false }), [[{ id: 1 }, { id: 1 }, { id: 2 }]]);
      expect(sparse!.rows).toEqual([{ id: 1 }, { id: 2 }]);
      const [whole] = runBatches(dropDuplicates<Loose>(), [[{ id: 1 }, { id: 1 }]]); // no named field: nothing to check
      expect(whole!.rows).toEqual([{ id: 1 }]);
    });

    it('resolves key fields against the known columns of the source when the pipeline is built', () => {
      const source = withPlan(fromBatches<Loose>([[{ id: 1, ts: 1 }]]), { columns: ['id', 'ts'] });
      expect(() => source.pipe(dropDuplicates<Loose>(['id', 'acton']))).toThrow("dropDuplicates: cannot resolve 'acton' given input columns: [id, ts] (keys).");
      // With known columns the schema decides, so there is no per-batch check: a batch whose rows all lack a known column is deduplicated (null key).
      const out: Loose[] = [];
      withPlan(fromBatches<Loose>([[{ id: 1 }, { id: 1 }]]), { columns: ['id', 'ts'] })
        .pipe(dropDuplicates<Loose>(['id', 'ts']))
        .subscribe((b) => out.push(...b.rows));
      expect(out).toEqual([{ id: 1 }]);
    });
  });

  describe('misconfiguration', () => {
    it('rejects a bad key spec when the operator is built', () => {
      expect(() => dropDuplicates([] as never)).toThrow(InvalidOptionError);
      expect(() => dropDuplicates(42 as never)).toThrow('dropDuplicates: keys must be a field name, a non-empty list of field names or a function of the row; got 42. Leave it out to use the whole row.');
      expect(() => dropDuplicates(['a', ''] as never)).toThrow(InvalidOptionError);
    });

    it('rejects a bad name when the operator is built', () => {
      expect(() => dropDuplicates<string>(undefined, { name: '' })).toThrow(InvalidOptionError);
    });

    it('accepts deduplication after an append-mode aggregation (Spark >= 3.4, MultiStatefulOperatorsSuite "aggregation -> stream deduplication")', () => {
      const aggregated = withPlan(of(batch(0, [{ n: 1 }])), { ...EMPTY_PLAN, aggregation: { kind: 'group', hasWatermark: true }, stateful: [{ kind: 'groupAggregate', id: 'g', query: undefined, outputMode: 'append' }] });
      const out: unknown[] = [];
      aggregated.pipe(dropDuplicates()).subscribe({ next: (b) => out.push(...b.rows) });
      expect(out).toEqual([{ n: 1 }]);
    });

    it('rejects deduplication after an update-mode aggregation on subscribe, with Spark wording', () => {
      const aggregated = withPlan(of(batch(0, [{ n: 1 }])), { ...EMPTY_PLAN, aggregation: { kind: 'group', hasWatermark: false }, stateful: [{ kind: 'groupAggregate', id: 'g', query: undefined, outputMode: 'update' }] });
      let error: unknown;
      let batches = 0;
      aggregated.pipe(dropDuplicates()).subscribe({ next: () => batches++, error: (e: unknown) => (error = e) });
      expect(batches).toBe(0);
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toMatch(/^dropDuplicates: Detected pattern of possible 'correctness' issue due to global watermark/);
    });
  });
});
