import { Observable, Subject, map, of, take, throwError } from 'rxjs';
import { flatMapGroupsWithState } from '../../operators/flatMapGroupsWithState.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { BatchSequenceError, InvalidOptionError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import type { GroupState } from '../../lib/groupState/GroupState.js';
import { EMPTY_PLAN, planOf, withPlan } from '../helpers/plan.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';
import { createTestScheduler, batch } from '../helpers/scheduler.js';

type Amount = { user: string; amount: number };
const a = (user: string, amount: number): Amount => ({ user, amount });
/** Emits the running total, or a "timed out" row; processing-time timeout of 7 virtual ms. */
const totals = (user: string, rows: readonly Amount[], state: GroupState<number>): { user: string; total?: number; timedOut?: boolean }[] => {
  if (state.hasTimedOut) {
    state.remove();
    return [{ user, timedOut: true }];
  }
  const total = rows.reduce((s, r) => s + r.amount, state.getOption() ?? 0);
  state.update(total);
  state.setTimeoutDuration(7);
  return [{ user, total }];
};

describe('flatMapGroupsWithState', () => {
  it('emits what the function returns per key and per timed-out key (processing time, virtual)', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a-----b-----c-----|', { a: batch(0, [a('ann', 10), a('bob', 5)]), b: batch(1, [a('ann', 1)]), c: batch(2, []) });
      const out = input.pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update', timeout: 'processingTime' }, totals), map((b) => b.rows));
      expectObservable(out).toBe('a-----b-----c-----|', {
        a: [{ user: 'ann', total: 10 }, { user: 'bob', total: 5 }],
        b: [{ user: 'ann', total: 11 }],
        c: [{ user: 'bob', timedOut: true }],
      });
      expectSubscriptions(input.subscriptions).toBe('^-----------------!');
    });
  });

  it('emits any number of rows per call, including none (append mode)', () => {
    type Click = { user: string; page: string };
    const firstVisits = flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append' }, (user: string, rows: readonly Click[], state: GroupState<string[]>) => {
      const seen = state.getOption() ?? [];
      const fresh = rows.map((r) => r.page).filter((pg, i, all) => !seen.includes(pg) && all.indexOf(pg) === i);
      state.update([...seen, ...fresh]);
      return fresh.map((page) => ({ user, page }));
    });
    const steps = runBatches(firstVisits, [[{ user: 'ann', page: 'a' }, { user: 'ann', page: 'b' }, { user: 'bob', page: 'a' }], [{ user: 'ann', page: 'a' }], [{ user: 'ann', page: 'c' }]]);
    expect(steps.map((s) => s.rows)).toEqual([[{ user: 'ann', page: 'a' }, { user: 'ann', page: 'b' }, { user: 'bob', page: 'a' }], [], [{ user: 'ann', page: 'c' }]]);
  });

  it('accepts any iterable, e.g. a generator', () => {
    const op = flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append' }, function* (user: string, rows: readonly Amount[]) {
      for (const r of rows) yield `${user}:${r.amount}`;
    });
    expect(runBatches(op, [[a('x', 1), a('x', 2)]])[0]!.rows).toEqual(['x:1', 'x:2']);
  });

  it('keeps a key with a pending timeout after remove() and reports it as not existing when it times out', () => {
    const scheduler = createTestScheduler();
    const input$ = new Subject<Batch<Amount>>();
    const out: unknown[] = [];
    input$
      .pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append', timeout: 'processingTime', scheduler }, (u: string, _r: readonly Amount[], s: GroupState<number>) => {
        if (s.hasTimedOut) return [[u, 'timeout', s.exists]];
        s.remove();
        s.setTimeoutDuration('3 ms');
        return [];
      }))
      .subscribe((b) => out.push(...b.rows, b.metrics?.stateOperators?.[0]?.numRowsTotal));
    input$.next(batch(0, [a('u', 1)]));
    scheduler.schedule(() => input$.next(batch(1, [])), 10);
    scheduler.flush();
    expect(out).toEqual([1, ['u', 'timeout', false], 0]);
  });

  it('fires event-time timeouts as the watermark passes, earliest deadline first', () => {
    type Ev = { user: string; ts: number };
    const op = flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append', timeout: 'eventTime' }, (user: string, rows: readonly Ev[], state: GroupState<number>) => {
      if (state.hasTimedOut) {
        state.remove();
        return [user];
      }
      state.update(rows.length);
      state.setTimeoutTimestamp(rows[0]!.ts + (user === 'late' ? 1000 : 500));
      return [];
    });
    streamTest((s: Observable<Batch<Ev>>) => s.pipe(withWatermark<Ev>('ts', 0), op))
      .addData([{ user: 'late', ts: 100 }, { user: 'early', ts: 100 }]).checkNewAnswer([]) // deadlines 1100 and 600; wm 100
      .addData([{ user: 'x', ts: 5000 }]).checkNewAnswer(['early', 'late']).checkStateRows(1) // wm 5000
      .stop();
  });

  it('records the declared output mode in the plan', () => {
    expect(planOf(withPlan(of(batch(0, [a('u', 1)])), {}).pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append' }, totals)))).toMatchObject({ outputMode: 'append', stateful: [expect.objectContaining({ kind: 'flatMapGroupsWithState', outputMode: 'append' })] });
  });

  describe('stream contract', () => {
    it('passes an empty batch through, completes, forwards errors and wraps a throwing function', () => {
      const out: Batch<unknown>[] = [];
      of(batch(2, [], 5)).pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, totals)).subscribe((b) => out.push(b));
      expect(out[0]).toMatchObject({ batchId: 2, rows: [], watermark: 5 });
      const errors: unknown[] = [];
      throwError(() => new Error('boom')).pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, totals)).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(1, [a('u', 1)]), batch(1, [a('u', 1)])).pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, () => [])).subscribe({ error: (e: unknown) => errors.push(e) });
      of(batch(0, [a('u', 1)])).pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, () => 42 as never)).subscribe({ error: (e: unknown) => errors.push(e) });
      expect((errors[0] as Error).message).toBe('boom');
      expect(errors[1]).toBeInstanceOf(BatchSequenceError);
      expect(errors[2]).toBeInstanceOf(UserFunctionError); // 42 is not iterable
    });

    it('unsubscribes, ignores a firehose after take, keeps separate state per subscription, does not mutate input', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const input = cold('a-b-c', { a: batch(0, [a('u', 1)]), b: batch(1, [a('u', 1)]), c: batch(2, [a('u', 1)]) });
        expectObservable(input.pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, (u: string, r: readonly Amount[], s: GroupState<number>) => [(s.update((s.getOption() ?? 0) + r.length), s.get())]), map((b) => b.rows[0])), '^--!').toBe('a-b', { a: 1, b: 2 });
        expectSubscriptions(input.subscriptions).toBe('^--!');
      });
      let calls = 0;
      const firehose = new Observable<Batch<Amount>>((subscriber) => {
        for (let i = 0; i < 50 && !subscriber.closed; i++) subscriber.next(batch(i, [a('u', i)]));
      });
      firehose.pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append' }, () => (calls++, [1])), take(1)).subscribe();
      expect(calls).toBe(1);
      const subject = new Subject<Batch<Amount>>();
      const counts$ = subject.pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, (_u: string, r: readonly Amount[], s: GroupState<number>) => [(s.update((s.getOption() ?? 0) + r.length), s.get())]));
      const first: unknown[] = [];
      const second: unknown[] = [];
      counts$.subscribe((b) => first.push(...b.rows));
      const frozen = Object.freeze(batch(0, Object.freeze([Object.freeze(a('u', 1))])));
      subject.next(frozen);
      counts$.subscribe((b) => second.push(...b.rows));
      subject.next(batch(1, [a('u', 1)]));
      expect([first, second]).toEqual([[1, 2], [1]]);
    });
  });

  describe('misconfiguration', () => {
    it('returns itself when called with no arguments (flatMapGroupsWithState<Row>()) and rejects undefined options', () => {
      expect(flatMapGroupsWithState<{ k: string }>()).toBe(flatMapGroupsWithState);
      expect(() => flatMapGroupsWithState(undefined as never, (() => 0) as never)).toThrow('flatMapGroupsWithState: options must be an object with at least keyBy; got undefined.');
    });

    it('rejects a missing or unknown output mode when the operator is built', () => {
      expect(() => flatMapGroupsWithState({ keyBy: 'user' } as { keyBy: 'user'; outputMode: 'append' }, totals)).toThrow('flatMapGroupsWithState: The output mode of function should be append or update; got undefined.');
      expect(() => flatMapGroupsWithState({ keyBy: 'user', outputMode: 'complete' as never }, totals)).toThrow(new InvalidOptionError('flatMapGroupsWithState: The output mode of function should be append or update; got "complete".', 'outputMode', 'complete', "'append' | 'update'"));
      expect(() => flatMapGroupsWithState({ keyBy: ['user', ''] as never, outputMode: 'update' }, totals)).toThrow(InvalidOptionError);
    });

    it('rejects it next to an aggregation with Spark wording, per output mode', () => {
      const aggregated = () => withPlan(of(batch(0, [a('u', 1)])), { ...EMPTY_PLAN, aggregation: { kind: 'group', hasWatermark: false } });
      const messages: string[] = [];
      aggregated().pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update' }, totals)).subscribe({ error: (e: unknown) => messages.push((e as Error).message) });
      aggregated().pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append' }, totals)).subscribe({ error: (e: unknown) => messages.push((e as Error).message) });
      expect(messages).toEqual([
        'flatMapGroupsWithState: flatMapGroupsWithState in update mode is not supported with aggregation on a streaming DataFrame/Dataset',
        'flatMapGroupsWithState: flatMapGroupsWithState in append mode is not supported after aggregation on a streaming DataFrame/Dataset',
      ]);
    });

    it('rejects an event-time timeout without watermark on subscribe', () => {
      let error: unknown;
      fromBatches([[a('u', 1)]]).pipe(flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update', timeout: 'eventTime' }, totals)).subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toContain('Event-time timeout not supported without watermark.');
    });
  });
});
