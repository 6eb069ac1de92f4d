import { inQueryContext } from '../../lib/internal/pipeline.js';
import { Observable, Subject, map, of, take, throwError, type OperatorFunction } from 'rxjs';
import { mapGroupsWithState } from '../../operators/mapGroupsWithState.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { BatchSequenceError, InvalidArgumentError, InvalidOptionError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import { NoSuchStateError, type GroupState } from '../../lib/groupState/GroupState.js';
import { groupStateCodec, type GroupStateStore } from '../../lib/groupState/GroupStateStore.js';
import { EMPTY_PLAN, planOf, withPlan } from '../helpers/plan.js';
import { type QueryContext, type StatefulOperatorSpec } from '../../lib/state/StateStore.js';
import type { LateRows } from '../../lib/types.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Purchase = { user: string; shopping: number; date: string };
const p = (user: string, shopping: number, date: string): Purchase => ({ user, shopping, date });
const runningTotal = (user: string, rows: readonly Purchase[], state: GroupState<number>) => {
  const total = rows.reduce((sum, r) => sum + r.shopping, state.getOption() ?? 0);
  state.update(total);
  return { user, total };
};
const stateOf = (b: { metrics?: Batch<unknown>['metrics'] } | undefined) => b?.metrics?.stateOperators?.[b.metrics.stateOperators.length - 1];
const rowsOf = <T>(): OperatorFunction<Batch<T>, readonly T[]> => map((b) => b.rows);

describe('mapGroupsWithState', () => {
  it('keeps a running total per user: the "unmanaged state" example of the notes', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const input = cold('  a-----b-----c-----d-----|', {
        a: batch(0, [p('Sankar', 200, '20-04-2020')]),
        b: batch(1, [p('Jade', 800, '21-04-2020')]),
        c: batch(2, [p('Sankar', 300, '21-04-2020')]),
        d: batch(3, [p('Kun', 100, '21-04-2020')]),
      });
      expectObservable(input.pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal), rowsOf())).toBe('a-----b-----c-----d-----|', {
        a: [{ user: 'Sankar', total: 200 }],
        b: [{ user: 'Jade', total: 800 }],
        c: [{ user: 'Sankar', total: 500 }],
        d: [{ user: 'Kun', total: 100 }],
      });
    });
    // State 4 of the notes: every user is kept (nothing bounds unmanaged state).
    const steps = runBatches(mapGroupsWithState({ keyBy: 'user' }, runningTotal), [[p('Sankar', 200, '')], [p('Jade', 800, '')], [p('Sankar', 300, '')], [p('Kun', 100, '')]]);
    expect(steps.map((s) => [stateOf(s)?.numRowsTotal, stateOf(s)?.numRowsUpdated])).toEqual([[1, 1], [2, 1], [2, 1], [3, 1]]);
  });

  it('calls the function once per key with that key\'s rows in arrival order, keys in order of first appearance', () => {
    const calls: [unknown, number[]][] = [];
    const [step] = runBatches(
      mapGroupsWithState({ keyBy: 'k' }, (k: string, rows: readonly { k: string; v: number }[]) => {
        calls.push([k, rows.map((r) => r.v)]);
        return k;
      }),
      [[{ k: 'b', v: 1 }, { k: 'a', v: 2 }, { k: 'b', v: 3 }]],
    );
    expect(calls).toEqual([['b', [1, 3]], ['a', [2]]]);
    expect(step!.rows).toEqual(['b', 'a']);
  });

  it('passes the key as the field value, an object of the listed fields, or the key function\'s result', () => {
    type R = { a: number; b: string; c: boolean };
    const keys: unknown[] = [];
    const record = (k: unknown) => (keys.push(k), 0);
    const rows = [[{ a: 1, b: 'x', c: true }]];
    runBatches(mapGroupsWithState<R>()({ keyBy: 'a' }, record), rows);
    runBatches(mapGroupsWithState<R>()({ keyBy: ['a', 'b'] }, record), rows);
    runBatches(mapGroupsWithState<R>()({ keyBy: (r) => `${r.b}${r.a}` }, record), rows);
    expect(keys).toEqual([1, { a: 1, b: 'x' }, 'x1']);
  });

  it('removes a key\'s state with state.remove()', () => {
    streamTest(
      mapGroupsWithState({ keyBy: 'user' }, (user: string, rows: readonly Purchase[], state: GroupState<number>) => {
        if (rows.some((r) => r.shopping < 0)) {
          state.remove();
          return { user, total: 0 };
        }
        return runningTotal(user, rows, state);
      }),
    )
      .addData([p('a', 5, ''), p('b', 1, '')]).checkStateRows(2)
      .addData([p('a', -1, '')]).checkNewAnswer([{ user: 'a', total: 0 }]).checkStateRows(1)
      .addData([p('a', 3, '')]).checkNewAnswer([{ user: 'a', total: 3 }])
      .stop();
  });

  describe('processing-time timeouts (virtual time)', () => {
    type Amount = { user: string; amount: number };
    const fn = (user: string, rows: readonly Amount[], state: GroupState<number>) => {
      if (state.hasTimedOut) {
        const total = state.get();
        state.remove();
        return { user, total, timedOut: true, at: state.getCurrentProcessingTimeMs() };
      }
      const total = rows.reduce((s, r) => s + r.amount, state.getOption() ?? 0);
      state.update(total);
      state.setTimeoutDuration(7);
      return { user, total, timedOut: false, at: state.getCurrentProcessingTimeMs() };
    };

    it('times a key out at the first batch whose processing time is past its deadline', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const input = cold('  a-----b-----c-----|', {
          a: batch(0, [{ user: 'ann', amount: 10 }, { user: 'bob', amount: 5 }]),
          b: batch(1, [{ user: 'ann', amount: 1 }]),
          c: batch(2, []),
        });
        expectObservable(input.pipe(mapGroupsWithState({ keyBy: 'user', timeout: 'processingTime' }, fn), rowsOf())).toBe('a-----b-----c-----|', {
          a: [{ user: 'ann', total: 10, timedOut: false, at: 0 }, { user: 'bob', total: 5, timedOut: false, at: 0 }],
          b: [{ user: 'ann', total: 11, timedOut: false, at: 6 }], // bob's deadline 7 is not before 6
          c: [{ user: 'bob', total: 5, timedOut: true, at: 12 }], // 7 < 12; ann's deadline 13 is not
        });
      });
    });

    it('uses an injected scheduler and does not time out at the deadline itself (strictly before)', () => {
      const scheduler = createTestScheduler();
      const input$ = new Subject<Batch<Amount>>();
      const out: (readonly unknown[])[] = [];
      input$.pipe(mapGroupsWithState({ keyBy: 'user', timeout: 'processingTime', scheduler }, fn)).subscribe((b) => out.push(b.rows));
      input$.next(batch(0, [{ user: 'ann', amount: 1 }]));
      scheduler.schedule(() => input$.next(batch(1, [])), 7);
      scheduler.schedule(() => input$.next(batch(2, [])), 8);
      scheduler.flush();
      expect(out).toEqual([[{ user: 'ann', total: 1, timedOut: false, at: 0 }], [], [{ user: 'ann', total: 1, timedOut: true, at: 8 }]]);
    });

    it('resets the timeout at every call: a key called without setting it again never times out', () => {
      const scheduler = createTestScheduler();
      const input$ = new Subject<Batch<Amount>>();
      const out: unknown[] = [];
      let calls = 0;
      input$
        .pipe(mapGroupsWithState({ keyBy: 'user', timeout: 'processingTime', scheduler }, (user: string, _rows: readonly Amount[], state: GroupState<number>) => {
          if (calls++ === 0) state.setTimeoutDuration('5 ms');
          state.update(calls);
          return [user, state.hasTimedOut];
        }))
        .subscribe((b) => out.push(...b.rows));
      input$.next(batch(0, [{ user: 'ann', amount: 1 }]));
      scheduler.schedule(() => input$.next(batch(1, [{ user: 'ann', amount: 1 }])), 2);
      scheduler.schedule(() => input$.next(batch(2, [])), 100);
      scheduler.flush();
      expect(out).toEqual([['ann', false], ['ann', false]]);
    });
  });

  describe('event-time timeouts (watermark steps)', () => {
    type Ev = { user: string; ts: number };
    const e = (user: string, s: number): Ev => ({ user, ts: s * 1000 });
    type Session = { count: number; lastMs: number };
    const sessions = (user: string, rows: readonly Ev[], state: GroupState<Session>) => {
      if (state.hasTimedOut) {
        const { count } = state.get();
        state.remove();
        return { user, count, closed: true };
      }
      const prev = state.getOption() ?? { count: 0, lastMs: 0 };
      const next = { count: prev.count + rows.length, lastMs: Math.max(prev.lastMs, ...rows.map((r) => r.ts)) };
      state.update(next);
      state.setTimeoutTimestamp(next.lastMs, '5 seconds');
      return { user, count: next.count, closed: false };
    };

    it('times a key out once the watermark passes its timestamp, and drops late rows', () => {
      const late: LateRows<Ev>[] = [];
      const test = streamTest((s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', '10 seconds'), mapGroupsWithState({ keyBy: 'user', timeout: 'eventTime', onLateRows: (l) => late.push(l) }, sessions)));
      test.addData([e('a', 10), e('a', 12), e('b', 11)]).checkWatermark(2_000) // a times out at 17s, b at 16s
        .checkNewAnswer([{ user: 'a', count: 2, closed: false }, { user: 'b', count: 1, closed: false }]).checkStateRows(2);
      test.addData([e('a', 20)]).checkWatermark(10_000).checkNewAnswer([{ user: 'a', count: 3, closed: false }]); // a now at 25s
      test.addData([e('c', 27)]).checkWatermark(17_000) // 16 < 17: b times out
        .checkNewAnswer([{ user: 'c', count: 1, closed: false }, { user: 'b', count: 1, closed: true }]).checkStateRows(2);
      expect(test.stateOperators()[0]).toMatchObject({ numRowsUpdated: 1, numRowsRemoved: 1, customMetrics: { numTimedOutKeys: 1 } });
      test.addData([e('b', 5), e('a', 36)]).checkWatermark(26_000) // b@5s is late against 17s
        .checkNewAnswer([{ user: 'a', count: 4, closed: false }]).checkDroppedByWatermark(1);
      test.addData([]).checkNewAnswer([]);
      test.addData([e('d', 50)]).checkWatermark(40_000) // c (32s) times out; a (41s) does not
        .checkNewAnswer([{ user: 'd', count: 1, closed: false }, { user: 'c', count: 1, closed: true }]).checkStateRows(2);
      test.stop();
      expect(late.map((l) => [l.batchId, l.watermark, l.rows])).toEqual([[3, 17_000, [e('b', 5)]]]);
    });

    it('does not drop late rows without an event-time timeout (as Spark)', () => {
      streamTest((s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', 0), mapGroupsWithState({ keyBy: 'user' }, (u: string, rows: readonly Ev[]) => [u, rows.length])))
        .addData([e('a', 10)])
        .addData([e('a', 1)]).checkNewAnswer([['a', 1]]).checkDroppedByWatermark(0)
        .stop();
    });

    it('shows data calls the late-events watermark (the previous batch\'s, as FlatMapGroupsWithStateExec does) and rejects a timeout below it with Spark wording', () => {
      const seen: number[] = [];
      let caught: unknown;
      fromBatches([[e('a', 30)], [e('a', 31)]])
        .pipe(
          withWatermark<Ev>('ts', '10 seconds'),
          mapGroupsWithState({ keyBy: 'user', timeout: 'eventTime' }, (_u: string, _r: readonly Ev[], state: GroupState<number>) => {
            seen.push(state.getCurrentWatermarkMs());
            state.setTimeoutTimestamp(15_000);
            return 0;
          }),
        )
        .subscribe({ error: (err: unknown) => (caught = err) });
      // Batch 0 runs with watermark 0 (a timeout at 15 s is fine); batch 1 with 20 s, the watermark after batch 0.
      expect(seen).toEqual([0, 20_000]);
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as Error).message).toBe('mapGroupsWithState: Timeout timestamp (15000) cannot be earlier than the current watermark (20000)');
    });
  });

  describe('state handle misuse (Spark wording)', () => {
    const failWith = (timeout: 'none' | 'processingTime' | 'eventTime', body: (state: GroupState<number>) => void, withWm = false): unknown => {
      let caught: unknown;
      const src = fromBatches([[{ k: 1, ts: 1000 }]]);
      const op = mapGroupsWithState({ keyBy: 'k', timeout }, (_k: number, _r: readonly { k: number; ts: number }[], state: GroupState<number>) => (body(state), 0));
      (withWm ? src.pipe(withWatermark<{ k: number; ts: number }>('ts', 0), op) : src.pipe(op)).subscribe({ error: (err: unknown) => (caught = err) });
      return caught;
    };

    it('get() on a missing state raises NoSuchStateError', () => {
      const error = failWith('none', (s) => s.get());
      expect(error).toBeInstanceOf(NoSuchStateError);
      expect((error as Error).message).toBe('mapGroupsWithState: State is either not defined or has already been removed; key 1. Check state.exists or use state.getOption() first.');
    });

    it('setTimeoutDuration needs a processing-time timeout and a positive duration', () => {
      expect(failWith('none', (s) => s.setTimeoutDuration(10))).toBeInstanceOf(UnsupportedOperationError);
      expect((failWith('eventTime', (s) => s.setTimeoutDuration(10), true) as Error).message).toBe('mapGroupsWithState: Cannot set timeout duration without enabling processing time timeout in [map|flatMap]GroupsWithState');
      expect((failWith('processingTime', (s) => s.setTimeoutDuration(0)) as Error).message).toBe('mapGroupsWithState: Timeout duration must be positive; got 0.');
    });

    it('setTimeoutTimestamp needs an event-time timeout', () => {
      expect((failWith('processingTime', (s) => s.setTimeoutTimestamp(10)) as Error).message).toBe('mapGroupsWithState: Cannot set timeout timestamp without enabling event time timeout in [map|flatMap]GroupsWithState');
    });

    it('getCurrentWatermarkMs needs a watermark; update refuses null', () => {
      expect((failWith('none', (s) => s.getCurrentWatermarkMs()) as Error).message).toBe('mapGroupsWithState: Cannot get event time watermark timestamp without setting watermark before [map|flatMap]GroupsWithState');
      expect(failWith('none', (s) => s.update(null as never))).toBeInstanceOf(InvalidArgumentError);
    });
  });

  describe('checkpointed state', () => {
    it('publishes per batch, round-trips through the codec and resumes with restored state and deadlines', () => {
      const published: { batchId: number; state: GroupStateStore; changed: string[] }[] = [];
      const ctx = (restored?: { batchId: number; state: GroupStateStore }): QueryContext => ({
        queryId: 'q',
        runId: 'r',
        scheduler: createTestScheduler(),
        registerState: <S>(spec: StatefulOperatorSpec<S>) => ({
          operatorId: spec.id,
          restored: restored as never,
          publish: (batchId: number, state: S, changed: Iterable<string>) => published.push({ batchId, state: state as unknown as GroupStateStore, changed: [...changed] }),
        }),
      });
      fromBatches([[p('Sankar', 200, '')], [p('Jade', 800, '')]]).pipe(inQueryContext(ctx()), mapGroupsWithState({ keyBy: 'user' }, runningTotal)).subscribe();
      expect(published.map((x) => [x.batchId, x.changed])).toEqual([[0, ['sSankar']], [1, ['sJade']]]);
      const json = JSON.parse(JSON.stringify([...groupStateCodec.entries(published[1]!.state)])) as [string, unknown][];
      expect(json).toContainEqual(['sSankar', { key: 'Sankar', exists: true, value: 200, timeoutAt: null }]);
      const restored = groupStateCodec.fromEntries(json);
      const out: unknown[] = [];
      fromBatches([[p('Sankar', 200, '')], [p('Jade', 800, '')], [p('Sankar', 300, '')]]).pipe(inQueryContext(ctx({ batchId: 1, state: restored })), mapGroupsWithState({ keyBy: 'user' }, runningTotal)).subscribe((b) => out.push([b.batchId, b.rows]));
      expect(out).toEqual([[2, [{ user: 'Sankar', total: 500 }]]]);
    });
  });

  describe('stream contract', () => {
    it('passes an empty batch through with its id and watermark, dropping the event-time marker', () => {
      const out: Batch<unknown>[] = [];
      of(batch(4, [], 9, { eventTime: { field: 'ts', isWindow: false, delayMs: 0 } })).pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal)).subscribe((b) => out.push(b));
      expect(out[0]).toMatchObject({ batchId: 4, rows: [], watermark: 9 });
      expect(out[0]!.eventTime).toBeUndefined();
    });

    it('records update output mode in the plan and drops the watermarked column', () => {
      const plan = planOf(fromBatches<Purchase>([]).pipe(withWatermark<Purchase>('date', 0), mapGroupsWithState({ keyBy: 'user' }, runningTotal)));
      expect(plan).toMatchObject({ outputMode: 'update', watermarks: [], stateful: [expect.objectContaining({ kind: 'watermark' }), expect.objectContaining({ kind: 'mapGroupsWithState', outputMode: 'update' })] });
    });

    it('completes, never completes, unsubscribes', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        expectObservable(cold<Batch<Purchase>>('-|').pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal))).toBe('-|');
        const input = cold('a-b-c-', { a: batch(0, [p('x', 1, '')]), b: batch(1, [p('x', 1, '')]), c: batch(2, [p('x', 1, '')]) });
        expectObservable(input.pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal), map((b) => b.rows[0]!.total)), '^--!').toBe('a-b', { a: 1, b: 2 });
        expectSubscriptions(input.subscriptions).toBe('^--!');
      });
    });

    it('ignores the rest of a synchronous firehose once take has enough', () => {
      let calls = 0;
      const firehose = new Observable<Batch<Purchase>>((subscriber) => {
        for (let i = 0; i < 50 && !subscriber.closed; i++) subscriber.next(batch(i, [p('u', 1, '')]));
      });
      const got: number[] = [];
      firehose.pipe(mapGroupsWithState({ keyBy: 'user' }, (u: string, r: readonly Purchase[], s: GroupState<number>) => (calls++, runningTotal(u, r, s))), take(2)).subscribe((b) => got.push(b.rows[0]!.total));
      expect(got).toEqual([1, 2]);
      expect(calls).toBe(2);
    });

    it('forwards source errors, rejects decreasing ids and wraps a throwing function', () => {
      const errors: unknown[] = [];
      throwError(() => new Error('boom')).pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal)).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(1, [p('a', 1, '')]), batch(0, [p('a', 1, '')])).pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal)).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(0, [p('a', 1, '')])).pipe(mapGroupsWithState({ keyBy: 'user' }, () => { throw new RangeError('nope'); })).subscribe({ error: (e: unknown) => errors.push(e) });
      expect((errors[0] as Error).message).toBe('boom');
      expect(errors[1]).toBeInstanceOf(BatchSequenceError);
      expect(errors[2]).toBeInstanceOf(UserFunctionError);
      expect((errors[2] as UserFunctionError).cause).toBeInstanceOf(RangeError);
    });

    it('does not mutate the input and keeps separate state per subscription', () => {
      const subject = new Subject<Batch<Purchase>>();
      const totals$ = subject.pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal), map((b) => b.rows.map((r) => r.total)));
      const first: number[][] = [];
      const second: number[][] = [];
      totals$.subscribe((t) => first.push(t));
      const frozen = Object.freeze(batch(0, Object.freeze([Object.freeze(p('a', 1, ''))])));
      subject.next(frozen);
      totals$.subscribe((t) => second.push(t));
      subject.next(batch(1, [p('a', 2, '')]));
      expect(first).toEqual([[1], [3]]);
      expect(second).toEqual([[2]]);
    });
  });

  describe('misconfiguration', () => {
    it('returns itself when called with no arguments (mapGroupsWithState<Row>()) and rejects undefined options', () => {
      expect(mapGroupsWithState<{ k: string }>()).toBe(mapGroupsWithState);
      expect(() => mapGroupsWithState(undefined as never, (() => 0) as never)).toThrow('mapGroupsWithState: options must be an object with at least keyBy; got undefined.');
    });

    it('rejects bad options when the operator is built', () => {
      expect(() => mapGroupsWithState({ keyBy: undefined as never }, runningTotal)).toThrow('mapGroupsWithState: keyBy must be a field name, a non-empty list of field names or a function of the row; got undefined.');
      expect(() => mapGroupsWithState({ keyBy: 'user', timeout: 'wallClock' as never }, runningTotal)).toThrow("mapGroupsWithState: timeout must be 'none', 'processingTime' or 'eventTime'; got \"wallClock\".");
      expect(() => mapGroupsWithState({ keyBy: 'user' }, 42 as never)).toThrow(InvalidOptionError);
      expect(() => mapGroupsWithState({ keyBy: 'user', scheduler: {} as never }, runningTotal)).toThrow('mapGroupsWithState: scheduler must be an RxJS SchedulerLike; got {}.');
    });

    it('rejects an event-time timeout without watermark on subscribe, or on the first batch when the plan is hidden', () => {
      const errors: unknown[] = [];
      let batches = 0;
      const op = () => mapGroupsWithState({ keyBy: 'user', timeout: 'eventTime' }, runningTotal);
      fromBatches([[p('a', 1, '')]]).pipe(op()).subscribe({ next: () => batches++, error: (e: unknown) => errors.push(e) });
      fromBatches([[p('a', 1, '')]]).pipe(map((b) => b), op()).subscribe({ next: () => batches++, error: (e: unknown) => errors.push(e) });
      expect(batches).toBe(0);
      for (const error of errors) {
        expect(error).toBeInstanceOf(UnsupportedOperationError);
        expect((error as Error).message).toBe("mapGroupsWithState: Watermark must be specified in the query using '[Dataset/DataFrame].withWatermark()' for using event-time timeout in a [map|flatMap]GroupsWithState. Event-time timeout not supported without watermark.");
      }
      expect(errors).toHaveLength(2);
    });

    it('rejects mapGroupsWithState after an aggregation, with Spark wording', () => {
      let error: unknown;
      withPlan(of(batch(0, [p('a', 1, '')])), { ...EMPTY_PLAN, aggregation: { kind: 'group', hasWatermark: false } })
        .pipe(mapGroupsWithState({ keyBy: 'user' }, runningTotal))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect((error as Error).message).toBe('mapGroupsWithState: mapGroupsWithState is not supported with aggregation on a streaming DataFrame/Dataset');
    });
  });
});
