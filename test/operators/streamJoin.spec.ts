import { inQueryContext } from '../../lib/internal/pipeline.js';
import { List, Map as IMap, Set as ISet } from 'immutable';
import { BehaviorSubject, NEVER, Observable, Subject, map, of, take, throwError, type OperatorFunction } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { toBatches } from '../../lib/batch/toBatches.js';
import { BatchSequenceError, ColumnNotFoundError, EventTimeError, InvalidDurationError, InvalidOptionError, InvalidValueError, UnsupportedOperationError, UserFunctionError } from '../../lib/errors/index.js';
import { EMPTY_PLAN, withPlan } from '../helpers/plan.js';
import { joinStateCodec, type JoinState } from '../../lib/join/JoinState.js';
import { staticTable } from '../../lib/join/staticTable.js';
import { type QueryContext, type StateHandle, type StatefulOperatorSpec } from '../../lib/state/StateStore.js';
import type { LateRows } from '../../lib/types.js';
import { streamJoin, type JoinType, type StreamJoinOptions } from '../../operators/streamJoin.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { batch, createTestScheduler } from '../helpers/scheduler.js';

interface Row {
  readonly name: string;
  readonly id: number;
  readonly ts: number;
}
/** A row named `name` with join key `id` and event time `sec` seconds. */
const r = (name: string, id: number, sec: number): Row => ({ name, id, ts: sec * 1000 });
const names = (rows: readonly unknown[]): string[] =>
  rows.map((row) => {
    const { left, right } = row as { left: Row | null; right: Row | null };
    return `${left?.name ?? 'null'}+${right?.name ?? 'null'}`;
  });

/** What a marble test compares: id, rows (as `L+R` names) and watermark. */
const view = (): OperatorFunction<Batch<unknown>, { batchId: number; rows: string[]; watermark: number }> =>
  map((b) => ({ batchId: b.batchId, rows: names(b.rows), watermark: b.watermark }));
const v = (batchId: number, rows: string[], watermark = 0) => ({ batchId, rows, watermark });

const range10s = { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: '10 seconds' } as const;

/** Two Subject-driven inputs with 10 s watermarks, joined; `left`/`right` push one batch each and return what the join emitted. */
type HarnessOptions<O> = Omit<StreamJoinOptions<Row, Row, JoinType, O>, 'on' | 'select'> & {
  readonly on?: StreamJoinOptions<Row, Row>['on'];
  readonly select?: (left: never, right: never) => O;
};
function harness<O = { left: Row | null; right: Row | null }>(options: HarnessOptions<O>, delay = '10 seconds') {
  const leftIn = new Subject<readonly Row[]>();
  const rightIn = new Subject<readonly Row[]>();
  const out: Batch<O>[] = [];
  let error: unknown;
  let completed = false;
  const left$ = leftIn.pipe(toBatches(), withWatermark<Row>('ts', delay));
  const right$ = rightIn.pipe(toBatches(), withWatermark<Row>('ts', delay));
  const subscription = left$
    .pipe(streamJoin(right$, { on: 'id', ...options } as StreamJoinOptions<Row, Row, JoinType, O>))
    .subscribe({ next: (b) => out.push(b), error: (e: unknown) => (error = e), complete: () => (completed = true) });
  const last = (): Batch<O> => {
    if (error !== undefined) throw error;
    return out[out.length - 1]!;
  };
  return {
    left: (rows: readonly Row[]) => (leftIn.next(rows), last()),
    right: (rows: readonly Row[]) => (rightIn.next(rows), last()),
    complete: () => (leftIn.complete(), rightIn.complete()),
    out,
    subscription,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
  };
}
const stateOf = (b: Batch<unknown>) => b.metrics!.stateOperators![b.metrics!.stateOperators!.length - 1]!;

describe('streamJoin', () => {
  describe('stream-stream', () => {
    it('emits each pair once and a left outer row with nulls when the watermark evicts it unmatched', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const left = cold<Batch<Row>>('  a---c---e--|', { a: batch(0, [r('L1', 1, 10)]), c: batch(1, [r('L2', 2, 40)]), e: batch(2, [r('L4', 4, 70)]) });
        const right = cold<Batch<Row>>(' --b---d---f|', { b: batch(0, [r('R1', 1, 15)]), d: batch(1, [r('R3', 3, 50)]), f: batch(2, [r('R5', 5, 80)]) });
        const joined = left.pipe(withWatermark('ts', '10 seconds'), streamJoin(right.pipe(withWatermark('ts', '10 seconds')), { on: 'id', type: 'leftOuter', timeRange: range10s }));
        expectObservable(joined.pipe(view())).toBe('a-b-c-d-e-f|', {
          a: v(0, []), //                  inputs: left 0, right none -> W 0
          b: v(1, ['L1+R1']), //           W min(0, 5s) = 0
          c: v(2, []), //                  W min(30s, 5s) = 5s; state watermarks negative, clamped output 0
          d: v(3, [], 19_999), //          W 30s: left state wm 30s - 10s - 1 ms evicts L1 (matched: silent)
          e: v(4, [], 29_999), //          W 40s: L2 (40s) still <= nothing
          f: v(5, ['L2+null'], 49_999), // W 60s: left state wm 49 999 evicts L2 unmatched
        });
        expectSubscriptions(left.subscriptions).toBe(' ^----------!');
        expectSubscriptions(right.subscriptions).toBe('^----------!');
      });
    });

    it('forms one micro-batch from batch N of both inputs when aligned: left rows, right rows, one watermark step', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const left = cold<Batch<Row>>('  a---c|', { a: batch(0, [r('L1', 1, 10)]), c: batch(1, [r('L2', 2, 30)]) });
        const right = cold<Batch<Row>>(' -b---d|', { b: batch(0, [r('R1', 1, 12), r('R1b', 1, 11)]), d: batch(1, [r('R2', 2, 35)]) });
        const joined = left.pipe(withWatermark('ts', '10 seconds'), streamJoin(right.pipe(withWatermark('ts', '10 seconds')), { on: 'id', timeRange: range10s, aligned: true }));
        expectObservable(joined.pipe(view())).toBe('-b---d|', {
          b: v(0, ['L1+R1', 'L1+R1b']), //  W min(0, 2s) = 0
          d: v(1, ['L2+R2'], 9_999), //     W min(20s, 25s) = 20s; output wm = W - 10s - 1 ms
        });
      });
    });

    it('joins rows of the same aligned batch exactly once, left rows buffered before the right rows probe', () => {
      const left$ = fromBatches([[r('L1', 1, 10)], []]).pipe(withWatermark('ts', '10 seconds'));
      const right$ = fromBatches([[r('R1', 1, 10)], [r('R2', 1, 10)]]).pipe(withWatermark('ts', '10 seconds'));
      const out: Batch<unknown>[] = [];
      left$.pipe(streamJoin(right$, { on: 'id', aligned: true })).subscribe((b) => out.push(b));
      expect(out.map((b) => names(b.rows))).toEqual([['L1+R1'], ['L1+R2']]);
    });

    it('follows the fastest input with policy max', () => {
      const h = harness({ timeRange: range10s, policy: 'max' });
      // left wm 90 s, the right input has reported nothing: max 90 s (min would give 0);
      // the output watermark is W - 10 s - 1 ms (left state watermark)
      expect(h.left([r('L1', 1, 100)]).watermark).toBe(79_999);
      expect(h.right([]).watermark).toBe(79_999);
      const min = harness({ timeRange: range10s });
      expect(min.left([r('L1', 1, 100)]).watermark).toBe(0);
    });

    it('drops late rows on each side, counts them and hands them to onLateRows', () => {
      const lateLeft: LateRows<Row>[] = [];
      const lateRight: LateRows<Row>[] = [];
      const h = harness({ timeRange: range10s, onLateRows: { left: (x) => lateLeft.push(x), right: { next: (x) => lateRight.push(x) } } });
      h.left([r('L1', 1, 50)]); // left wm 40s
      h.right([r('R1', 1, 50)]); // right wm 40s -> W 40s
      const b = h.left([r('L0', 1, 40), r('L2', 1, 41)]); // 40s <= W: late; 41s joins R1 (50s in [41s, 51s])
      expect(names(b.rows)).toEqual(['L2+R1']);
      expect(stateOf(b).numRowsDroppedByWatermark).toBe(1);
      const c = h.right([r('R0', 1, 39), r('R2', 1, 45)]);
      expect(names(c.rows)).toEqual(['L2+R2']); // 45s is in L2's range [41s, 51s], not in L1's [50s, 60s]
      expect(stateOf(c).numRowsDroppedByWatermark).toBe(1);
      expect(lateLeft).toEqual([{ operatorId: expect.stringMatching(/^streamJoin#\d+$/), batchId: 2, watermark: 40_000, rows: [r('L0', 1, 40)] }]);
      expect(lateRight).toEqual([{ operatorId: expect.stringMatching(/^streamJoin#\d+$/), batchId: 3, watermark: 40_000, rows: [r('R0', 1, 39)] }]);
    });

    it('hands late rows of both sides to a single handler', () => {
      const late: string[] = [];
      const h = harness({ onLateRows: (x) => late.push(...x.rows.map((row) => (row as Row).name)) });
      h.left([r('L1', 1, 50)]);
      h.right([r('R1', 1, 50)]);
      h.left([r('L0', 1, 1)]);
      h.right([r('R0', 1, 2)]);
      expect(late).toEqual(['L0', 'R0']);
    });

    it('evicts state as soon as no further match can arrive, step by step', () => {
      const h = harness({ timeRange: range10s });
      let b = h.left([r('L1', 1, 10), r('L2', 2, 20)]);
      expect(stateOf(b)).toMatchObject({ numRowsTotal: 2, numRowsUpdated: 2, numRowsRemoved: 0 });
      b = h.right([r('R1', 1, 15)]); // W 0 (left wm 10s, right 5s -> 5s? min(10s, 5s) = 5s)
      expect(b.watermark).toBe(0);
      expect(stateOf(b)).toMatchObject({ numRowsTotal: 3, numRowsRemoved: 0, customMetrics: { numLeftRowsTotal: 2, numRightRowsTotal: 1 } });
      b = h.right([r('R9', 9, 40)]); // right wm 30s; W min(10s, 30s) = 10s: right state wm 9 999, left -1
      expect(stateOf(b)).toMatchObject({ numRowsTotal: 4, numRowsRemoved: 0 });
      b = h.left([r('L9', 9, 60)]); // left wm 50s; W 30s: left state wm 19 999 evicts L1 (10s); right state wm 29 999 evicts R1 (15s)
      expect(stateOf(b)).toMatchObject({ numRowsTotal: 3, numRowsRemoved: 2 });
      expect(b.watermark).toBe(19_999);
      b = h.right([r('R10', 10, 100)]); // W 50s: left evicts L2 (20s); right evicts R9 (40s)
      expect(stateOf(b)).toMatchObject({ numRowsTotal: 2, numRowsRemoved: 2, customMetrics: { numLeftRowsTotal: 1, numRightRowsTotal: 1 } });
    });

    it('keeps every row without a range or watermarked key (inner join), as Spark does', () => {
      const h = harness({});
      h.left([r('L1', 1, 10)]);
      h.right([r('R1', 1, 1000)]);
      const b = h.left([r('L2', 1, 2000)]);
      expect(names(b.rows)).toEqual(['L2+R1']);
      expect(stateOf(b).numRowsTotal).toBe(3);
      expect(b.watermark).toBe(990_000);
    });

    it('emits right outer rows with nulls at eviction, never for matched rows', () => {
      const h = harness({ type: 'rightOuter', timeRange: range10s });
      h.left([r('L1', 1, 10)]);
      h.right([r('R1', 1, 12), r('R2', 2, 12)]);
      h.left([r('L3', 3, 100)]);
      const b = h.right([r('R3', 3, 100)]); // W 90s: right state wm 89 999 evicts R1 (matched) and R2 (unmatched)
      expect(names(b.rows).sort()).toEqual(['L3+R3', 'null+R2']);
      expect(h.out.flatMap((x) => names(x.rows)).filter((n) => n === 'null+R1')).toEqual([]);
    });

    it('emits full outer rows for both sides, each once', () => {
      const h = harness({ type: 'fullOuter', timeRange: range10s });
      h.left([r('L1', 1, 10), r('L2', 2, 10)]);
      h.right([r('R1', 1, 12), r('R3', 3, 12)]);
      h.left([r('L9', 9, 200)]);
      const b = h.right([r('R9', 9, 200)]);
      expect(names(b.rows).sort()).toEqual(['L2+null', 'L9+R9', 'null+R3']);
      h.left([r('L10', 10, 400)]);
      const all = h.out.flatMap((x) => names(x.rows));
      expect(all.filter((n) => n === 'L2+null')).toHaveLength(1);
      expect(all.filter((n) => n === 'null+R3')).toHaveLength(1);
      expect(all.filter((n) => n.startsWith('L1+null') || n.endsWith('null+R1'))).toEqual([]);
    });

    it('never matches null or missing keys, and emits their outer rows with nulls at eviction, as for any unmatched row', () => {
      const h = harness({ type: 'fullOuter', timeRange: range10s });
      const nul = (name: string, sec: number, id: null | undefined): Row => ({ name, id, ts: sec * 1000 }) as unknown as Row;
      const missing = (name: string, sec: number): Row => ({ name, ts: sec * 1000 }) as unknown as Row;
      const first = h.left([nul('Ln', 10, null), nul('Lu', 10, undefined), missing('Lm', 10), r('L1', 1, 10)]);
      expect(names(first.rows)).toEqual([]);
      const second = h.right([nul('Rn', 12, null), nul('Ru', 12, undefined), missing('Rm', 12), r('R1', 1, 12)]);
      expect(names(second.rows)).toEqual(['L1+R1']); // no null key matches another
      expect(stateOf(second).numRowsTotal).toBe(8); // the preserved sides buffer their null-keyed rows until eviction
      h.left([r('L9', 9, 200)]);
      const evicted = h.right([r('R9', 9, 200)]);
      expect(names(evicted.rows).sort()).toEqual(['L9+R9', 'Lm+null', 'Ln+null', 'Lu+null', 'null+Rm', 'null+Rn', 'null+Ru']);
      const inner = harness({ timeRange: range10s });
      inner.left([nul('Ln', 10, null)]);
      const b = inner.right([nul('Rn', 10, null)]);
      expect(names(b.rows)).toEqual([]);
      expect(stateOf(b).numRowsTotal).toBe(0); // an inner join never buffers a row that can match nothing
    });

    it('treats a part of a composite key as null when missing, also for a column named like an Object member', () => {
      const out: string[] = [];
      type C = Record<string, unknown> & { n: string };
      const left = fromBatches<C>([[{ constructor: 1, b: 'x', n: 'L1' }, { b: 'x', n: 'L2' }, { constructor: 1, n: 'L3' }]]);
      const right = fromBatches<C>([[{ constructor: 1, b: 'x', n: 'R1' }, { b: 'x', n: 'R2' }, { constructor: 1, n: 'R3' }]]);
      left
        .pipe(streamJoin(right, { on: ['constructor', 'b'], aligned: true, select: (l, x) => `${l.n}+${x.n}` }))
        .subscribe((batch) => out.push(...batch.rows));
      expect(out).toEqual(['L1+R1']);
    });

    it('keeps a string key starting with U+0000 apart from null, Date and object keys', () => {
      const out: string[] = [];
      const keys: unknown[] = [null, new Date(5), { a: 1 }, '\u0000null', '\u0000D5', '\u0000{"a":1}'];
      type K = { k: unknown; n: string };
      const left = fromBatches<K>([keys.map((k, i) => ({ k, n: `L${i}` }))]);
      const right = fromBatches<K>([keys.map((k, i) => ({ k, n: `R${i}` }))]);
      left
        .pipe(streamJoin(right, { on: 'k', aligned: true, select: (l, x) => `${l.n}+${x.n}` }))
        .subscribe((batch) => out.push(...batch.rows));
      expect(out.sort()).toEqual(['L1+R1', 'L2+R2', 'L3+R3', 'L4+R4', 'L5+R5']);
    });

    it('evicts by watermarked columns given with a format, in a time range and as a join key, emitting outer rows when due', () => {
      type F = { id: string; ts: string };
      type G = { id: string; at: string };
      const ts = { field: 'ts', format: 'dd-MM-yyyy-HH-mm' } as const;
      const at = { field: 'at', format: 'dd-MM-yyyy-HH-mm' } as const;
      const shown = (rows: readonly unknown[]) => rows.map((row) => {
        const { left, right } = row as { left: { id: string } | null; right: { id: string } | null };
        return `${left?.id ?? 'null'}+${right?.id ?? 'null'}`;
      });
      const out: string[][] = [];
      fromBatches<F>([[{ id: 'a', ts: '02-03-2018-10-01' }], [{ id: 'z', ts: '02-03-2018-12-30' }]])
        .pipe(
          withWatermark<F>(ts, '10 minutes'),
          streamJoin(fromBatches<G>([[{ id: 'b', at: '02-03-2018-10-02' }], [{ id: 'y', at: '02-03-2018-12-30' }]]).pipe(withWatermark<G>(at, '10 minutes')), {
            on: 'id',
            type: 'leftOuter',
            aligned: true,
            timeRange: { leftTime: ts, rightTime: at, lower: 0, upper: '5 minutes' },
          }),
        )
        .subscribe((b) => out.push(shown(b.rows)));
      expect(out).toEqual([[], ['a+null']]); // W 12:20 at batch 1: the left state watermark passes 10:01
      const keyed: string[][] = [];
      const totals: number[] = [];
      fromBatches<F>([[{ id: 'a', ts: '02-03-2018-10-01' }, { id: 'b', ts: '02-03-2018-10-02' }], [{ id: 'z', ts: '02-03-2018-12-30' }]])
        .pipe(
          withWatermark<F>(ts, '10 minutes'),
          streamJoin(fromBatches<G>([[{ id: 'b', at: '02-03-2018-10-02' }], [{ id: 'y', at: '02-03-2018-12-30' }]]).pipe(withWatermark<G>(at, '10 minutes')), {
            on: { left: ['id', 'ts'], right: ['id', 'at'] },
            type: 'fullOuter',
            aligned: true,
          }),
        )
        .subscribe((b) => (keyed.push(shown(b.rows)), totals.push(stateOf(b).numRowsTotal)));
      expect(keyed).toEqual([['b+b'], ['a+null']]); // the key's time (parsed with the format on both sides) is at or below W 12:20
      expect(totals).toEqual([3, 2]);
    });

    it('emits each left semi row at most once: on arrival, or when the first partner arrives', () => {
      const h = harness<Row>({ type: 'leftSemi', timeRange: range10s });
      h.right([r('R1', 1, 10)]);
      let b = h.left([r('L1', 1, 5), r('L2', 2, 5)]); // L1 matches R1 at once and is not buffered
      expect(b.rows.map((x) => x.name)).toEqual(['L1']);
      expect(stateOf(b).customMetrics).toMatchObject({ numLeftRowsTotal: 1, numRightRowsTotal: 1 });
      b = h.right([r('R2', 2, 7), r('R2b', 2, 8)]); // two partners for L2: L2 once
      expect(b.rows.map((x) => x.name)).toEqual(['L2']);
      b = h.right([r('R2c', 2, 9)]);
      expect(b.rows).toEqual([]);
    });

    it('applies select to pairs, null-padded rows and semi rows', () => {
      const h = harness<string>({ type: 'leftOuter', timeRange: range10s, select: (left: Row, right: Row | null) => `${left.name}:${right?.name ?? '-'}` });
      h.left([r('L1', 1, 10), r('L2', 2, 10)]);
      expect(h.right([r('R1', 1, 11)]).rows).toEqual(['L1:R1']);
      h.left([r('L3', 3, 100)]);
      expect(h.right([r('R3', 3, 100)]).rows).toEqual(['L3:R3', 'L2:-']);
      const semi = harness<string>({ type: 'leftSemi', timeRange: range10s, select: (left: Row, right: null) => `${left.name}/${String(right)}` });
      semi.right([r('R1', 1, 10)]);
      expect(semi.left([r('L1', 1, 10)]).rows).toEqual(['L1/null']);
    });

    it('applies a where function to candidate pairs', () => {
      const h = harness({ where: (left, right) => right.ts - left.ts === 1000 });
      h.left([r('L1', 1, 10)]);
      expect(names(h.right([r('R1', 1, 11), r('R2', 1, 12)]).rows)).toEqual(['L1+R1']);
    });

    it('emits a preserved row failing its own side condition at once with nulls and never buffers it', () => {
      const h = harness({ type: 'leftOuter', timeRange: range10s, where: { left: (l) => l.name !== 'Lx', right: (x) => x.name !== 'Rx', both: (l, x) => l.id === x.id } });
      let b = h.left([r('Lx', 1, 10), r('L1', 1, 10)]);
      expect(names(b.rows)).toEqual(['Lx+null']);
      expect(stateOf(b).numRowsTotal).toBe(1);
      b = h.right([r('Rx', 1, 11), r('R1', 1, 11)]); // Rx fails the right-only condition: dropped, not buffered (right side not preserved)
      expect(names(b.rows)).toEqual(['L1+R1']);
      expect(stateOf(b).numRowsTotal).toBe(2);
      const ro = harness({ type: 'rightOuter', timeRange: range10s, where: { right: (x) => x.name !== 'Rx' } });
      expect(names(ro.right([r('Rx', 1, 11)]).rows)).toEqual(['null+Rx']);
    });

    it('evicts both sides by a watermarked join key (state-key watermark), outer allowed without a range', () => {
      interface W { readonly id: number; readonly window: { start: number; end: number }; readonly name: string }
      const w = (name: string, id: number, startSec: number): W => ({ name, id, window: { start: startSec * 1000, end: startSec * 1000 + 10_000 } });
      const leftIn = new Subject<readonly W[]>();
      const rightIn = new Subject<readonly W[]>();
      const out: Batch<{ left: W; right: W | null }>[] = [];
      leftIn
        .pipe(toBatches(), withWatermark<W>('window', 0), streamJoin(rightIn.pipe(toBatches(), withWatermark<W>('window', 0)), { on: ['id', 'window'], type: 'leftOuter' }))
        .subscribe((b) => out.push(b));
      leftIn.next([w('L1', 1, 0), w('L2', 2, 0), w('L3', 3, 20)]);
      rightIn.next([w('R1', 1, 0)]); // windows compare by end - 1 for the watermark: W = min(29 999, 9 999) = 9 999
      rightIn.next([w('R9', 9, 20)]); // W 29 999: windows ending at 10 000 are evicted; L2 unmatched
      const b = out[2]!;
      expect(names(b.rows)).toEqual(['L2+null']);
      expect(stateOf(b)).toMatchObject({ numRowsTotal: 2, numRowsRemoved: 3 });
      expect(b.watermark).toBe(29_999);
    });

    it('passes empty batches through with their ids and keeps the watermark monotone', () => {
      const h = harness({ timeRange: range10s });
      const ids: number[] = [];
      const wms: number[] = [];
      h.subscription.add(() => undefined);
      for (const rows of [[r('L1', 1, 100)], [], [r('L0', 1, 50)], []] as Row[][]) {
        const b = h.left(rows);
        ids.push(b.batchId);
        wms.push(b.watermark);
        const c = h.right([]);
        ids.push(c.batchId);
        wms.push(c.watermark);
      }
      expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(h.out.every((b) => b.rows.length === 0)).toBe(true);
      expect([...wms].sort((a, b) => a - b)).toEqual(wms);
    });

    it('does not mutate the input batches', () => {
      const freeze = <T>(b: Batch<T>): Batch<T> => Object.freeze({ ...b, rows: Object.freeze(b.rows.map((x) => Object.freeze(x))) });
      const left$ = of(freeze(batch(0, [r('L1', 1, 10)])), freeze(batch(1, [r('L2', 1, 30)]))).pipe(withWatermark('ts', 0));
      const right$ = of(freeze(batch(0, [r('R1', 1, 10)]))).pipe(withWatermark('ts', 0));
      const out: Batch<unknown>[] = [];
      left$.pipe(streamJoin(right$, { on: 'id', type: 'leftOuter', timeRange: range10s })).subscribe((b) => out.push(b));
      expect(out.flatMap((b) => names(b.rows))).toEqual(['L1+R1']);
    });

    it('keeps separate state per subscription', () => {
      const left = new Subject<Batch<Row>>();
      const right = new Subject<Batch<Row>>();
      const joined = left.pipe(streamJoin(right, { on: 'id' }));
      const a: string[] = [];
      const b: string[] = [];
      joined.subscribe((x) => a.push(...names(x.rows)));
      left.next(batch(0, [r('L1', 1, 1)]));
      joined.subscribe((x) => b.push(...names(x.rows)));
      right.next(batch(0, [r('R1', 1, 1)]));
      expect(a).toEqual(['L1+R1']);
      expect(b).toEqual([]);
    });

    it('completes when both inputs complete and not before', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const left = cold<Batch<Row>>(' a|', { a: batch(0, []) });
        const right = cold<Batch<Row>>('---|');
        expectObservable(left.pipe(streamJoin(right, { on: 'id' }), view())).toBe('a--|', { a: v(0, []) });
        const never = cold<Batch<Row>>('-');
        expectObservable(left.pipe(streamJoin(never, { on: 'id' }), view())).toBe('a-', { a: v(0, []) });
        const empty = cold<Batch<Row>>('|');
        expectObservable(empty.pipe(streamJoin(empty, { on: 'id' }), view())).toBe('|');
      });
    });

    it('forwards errors of either input and unsubscribes both', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const left = cold<Batch<Row>>(' a---', { a: batch(0, []) });
        const right = cold<Batch<Row>>('--#', undefined, new Error('boom'));
        expectObservable(left.pipe(streamJoin(right, { on: 'id' }), view())).toBe('a-#', { a: v(0, []) }, new Error('boom'));
        expectSubscriptions(left.subscriptions).toBe('^-!');
        expectSubscriptions(right.subscriptions).toBe('^-!');
      });
      let error: unknown;
      throwError(() => new Error('left boom'))
        .pipe(streamJoin(NEVER, { on: 'id' }))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect((error as Error).message).toBe('left boom');
    });

    it('unsubscribes both inputs on early unsubscribe and stops a synchronous firehose with take', () => {
      createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const left = cold<Batch<Row>>(' a-b-c-d', { a: batch(0, []), b: batch(1, []), c: batch(2, []), d: batch(3, []) });
        const right = cold<Batch<Row>>('--------');
        expectObservable(left.pipe(streamJoin(right, { on: 'id' }), view()), '^--!').toBe('a-b', { a: v(0, []), b: v(1, []) });
        expectSubscriptions(left.subscriptions).toBe('^--!');
        expectSubscriptions(right.subscriptions).toBe('^--!');
      });
      const seen: number[] = [];
      let produced = 0;
      const firehose = new Observable<Batch<Row>>((s) => {
        for (let i = 0; i < 1000 && !s.closed; i++) {
          produced++;
          s.next(batch(i, [r(`L${i}`, i, i)]));
        }
      });
      let completed = false;
      firehose.pipe(streamJoin(NEVER, { on: 'id' }), take(3)).subscribe({ next: (b) => seen.push(b.batchId), complete: () => (completed = true) });
      expect(seen).toEqual([0, 1, 2]);
      expect(completed).toBe(true);
      // The inputs are subscribed through Subscribers linked to the output, so the source stops at once.
      expect(produced).toBe(3);
    });

    it('turns a throwing select or key function into a UserFunctionError naming the batch', () => {
      const h = harness({ select: () => {
        throw new Error('bad select');
      } });
      h.left([r('L1', 1, 1)]);
      expect(() => h.right([r('R1', 1, 1)])).toThrow(UserFunctionError);
      expect((h.error as UserFunctionError).batchId).toBe(1);
      expect((h.error as Error).message).toBe('streamJoin: a user function threw while processing batch 1: Error: bad select');
    });

    it('rejects decreasing batch ids of an input', () => {
      let error: unknown;
      of(batch(1, [r('L', 1, 1)]), batch(0, [r('L', 1, 1)]))
        .pipe(streamJoin(NEVER, { on: 'id' }))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(BatchSequenceError);
      expect((error as Error).message).toContain('streamJoin (left input): batch ids must increase; got batch 0 after batch 1');
    });

    it('matches keys given per side, composite keys, and never matches null keys', () => {
      const left = fromBatches([[{ a: 1, b: 'x', n: 'L1' }, { a: null, b: 'x', n: 'L2' }]]);
      const right = fromBatches([[{ c: 1, d: 'x', n: 'R1' }, { c: null, d: 'x', n: 'R2' }, { c: 1, d: 'y', n: 'R3' }]]);
      const out: string[] = [];
      left
        .pipe(streamJoin(right, { on: { left: ['a', 'b'], right: ['c', 'd'] }, aligned: true, select: (l, x) => `${l.n}+${x.n}` }))
        .subscribe((b) => out.push(...b.rows));
      expect(out).toEqual(['L1+R1']);
      const byFn: string[] = [];
      fromBatches([[{ k: 'A', n: 'L' }]])
        .pipe(streamJoin(fromBatches([[{ key: 'a', n: 'R' }]]), { on: { left: (l) => l.k.toLowerCase(), right: 'key' }, aligned: true, select: (l, x) => `${l.n}+${x.n}` }))
        .subscribe((b) => byFn.push(...b.rows));
      expect(byFn).toEqual(['L+R']);
    });

    it('attaches an append-mode plan and a marker that reads the left event time of output rows', () => {
      const left$ = fromBatches([[r('L1', 1, 10)]]).pipe(withWatermark('ts', 0));
      const right$ = fromBatches([[r('R1', 1, 10)]]).pipe(withWatermark('ts', 0));
      const joined = left$.pipe(streamJoin(right$, { on: 'id', aligned: true }));
      let marker: Batch<unknown>['eventTime'];
      let rows: readonly unknown[] = [];
      joined.subscribe((b) => ((marker = b.eventTime), (rows = b.rows)));
      expect(marker).toMatchObject({ field: 'left.ts', isWindow: false, delayMs: 0 });
      expect((marker!.read as (row: unknown) => unknown)(rows[0])).toBe(10_000);
      expect((marker!.read as (row: unknown) => unknown)({ left: null, right: r('R', 1, 7) })).toBe(7000);
    });

    it('rejects an input that emits tables rather than batches, pointing at staticTable', () => {
      let error: unknown;
      fromBatches([[r('L1', 1, 1)]])
        .pipe(streamJoin(of([r('R1', 1, 1)]) as unknown as Observable<Batch<Row>>, { on: 'id' }))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toContain('Wrap a stream of whole tables in staticTable(tables$)');
    });
  });

  describe('stream-static', () => {
    const table = [r('T1', 1, 0), r('T1b', 1, 0), r('T2', 2, 0)];

    it('joins each batch with the whole table, keeping no state and ignoring the watermark', () => {
      createTestScheduler().run(({ cold, expectObservable }) => {
        const left = cold<Batch<Row>>(' a-b-c|', { a: batch(0, [r('L1', 1, 100)]), b: batch(1, []), c: batch(2, [r('L2', 2, 1), r('L3', 3, 1)]) });
        expectObservable(left.pipe(withWatermark('ts', 0), streamJoin(table, { on: 'id' }), view())).toBe('a-b-c|', {
          a: v(0, ['L1+T1', 'L1+T1b'], 100_000),
          b: v(1, [], 100_000),
          c: v(2, ['L2+T2'], 100_000), // L2 is far behind the watermark: no late filtering in stream-static joins
        });
      });
    });

    it('emits left outer rows with nulls at once and left semi rows once', () => {
      const out: string[] = [];
      fromBatches([[r('L1', 1, 0), r('L3', 3, 0)]]).pipe(streamJoin(List(table), { on: 'id', type: 'leftOuter' })).subscribe((b) => out.push(...names(b.rows)));
      expect(out).toEqual(['L1+T1', 'L1+T1b', 'L3+null']);
      const semi: string[] = [];
      fromBatches([[r('L1', 1, 0), r('L3', 3, 0)]]).pipe(streamJoin(table, { on: 'id', type: 'leftSemi' })).subscribe((b) => semi.push(...b.rows.map((x) => x.name)));
      expect(semi).toEqual(['L1']);
    });

    it('never matches a null or missing key: left outer rows come out with nulls at once, table rows with null keys match nothing', () => {
      const tableRows = [{ id: null, n: 'Tn' }, { n: 'Tm' }, { id: 1, n: 'T1' }] as { id?: number | null; n: string }[];
      const stream = [{ id: null, n: 'Ln' }, { n: 'Lm' }, { id: undefined, n: 'Lu' }, { id: 1, n: 'L1' }] as { id?: number | null; n: string }[];
      const shown = (rows: readonly unknown[]) => rows.map((row) => {
        const { left, right } = row as { left: { n: string } | null; right: { n: string } | null };
        return `${left?.n ?? 'null'}+${right?.n ?? 'null'}`;
      });
      const outer: string[] = [];
      fromBatches([stream]).pipe(streamJoin(tableRows, { on: 'id', type: 'leftOuter' })).subscribe((b) => outer.push(...shown(b.rows)));
      expect(outer).toEqual(['Ln+null', 'Lm+null', 'Lu+null', 'L1+T1']);
      const inner: string[] = [];
      fromBatches([stream]).pipe(streamJoin(tableRows, { on: 'id' })).subscribe((b) => inner.push(...shown(b.rows)));
      expect(inner).toEqual(['L1+T1']);
      const semi: string[] = [];
      fromBatches([stream]).pipe(streamJoin(tableRows, { on: 'id', type: 'leftSemi' })).subscribe((b) => semi.push(...b.rows.map((x) => x.n)));
      expect(semi).toEqual(['L1']);
    });

    it('accepts Immutable collections and applies timeRange and where as plain conditions', () => {
      const out: string[] = [];
      fromBatches([[r('L1', 1, 0)]])
        .pipe(streamJoin(IMap({ a: r('T1', 1, 5), b: r('T2', 1, 50) }), { on: 'id', timeRange: range10s, where: { right: (x) => x.name !== 'T9' } }))
        .subscribe((b) => out.push(...names(b.rows)));
      expect(out).toEqual(['L1+T1']);
      const cross: string[] = [];
      fromBatches([[r('L1', 1, 0)]])
        .pipe(streamJoin(table, { where: (l, x) => x.id !== l.id }))
        .subscribe((b) => cross.push(...names(b.rows)));
      expect(cross).toEqual(['L1+T2']);
      const empty: string[] = [];
      fromBatches([[r('L1', 1, 0)]]).pipe(streamJoin(List<Row>(), { on: 'id', type: 'leftOuter' })).subscribe((b) => empty.push(...names(b.rows)));
      expect(empty).toEqual(['L1+null']);
    });

    it('replaces the table when a staticTable stream emits, and holds batches until the first table', () => {
      const tables = new Subject<readonly Row[]>();
      const batches = new Subject<readonly Row[]>();
      const out: string[][] = [];
      let done = false;
      batches
        .pipe(toBatches(), streamJoin(staticTable(tables), { on: 'id' }))
        .subscribe({ next: (b) => out.push(names(b.rows)), complete: () => (done = true) });
      batches.next([r('L1', 1, 0)]);
      expect(out).toEqual([]);
      tables.next([r('T1', 1, 0)]);
      expect(out).toEqual([['L1+T1']]);
      tables.next([r('T1new', 1, 0)]);
      batches.next([r('L2', 1, 0)]);
      expect(out[1]).toEqual(['L2+T1new']);
      batches.complete();
      expect(done).toBe(true);
      const refreshed = new BehaviorSubject<List<Row>>(List([r('A', 1, 0)]));
      const seen: string[] = [];
      fromBatches([[r('L', 1, 0)]]).pipe(streamJoin(staticTable(refreshed), { on: 'id' })).subscribe((b) => seen.push(...names(b.rows)));
      expect(seen).toEqual(['L+A']);
    });

    it('names the join when a key function throws on a row of a refreshed table', () => {
      const errors: unknown[] = [];
      const boom = (): never => {
        throw new Error('bad table row');
      };
      fromBatches([[r('L', 1, 0)]])
        .pipe(streamJoin(staticTable(new BehaviorSubject<readonly Row[]>([r('A', 1, 0)])), { on: { left: (row: Row) => row.id, right: boom } }))
        .subscribe({ error: (e) => errors.push(e) });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(UserFunctionError);
      expect((errors[0] as Error).message).toContain('streamJoin');
    });

    it('joins against an empty table when the table stream completes without emitting', () => {
      const out: string[] = [];
      let done = false;
      fromBatches([[r('L1', 1, 0)]])
        .pipe(streamJoin(staticTable(new Observable<readonly Row[]>((s) => s.complete())), { on: 'id', type: 'leftOuter' }))
        .subscribe({ next: (b) => out.push(...names(b.rows)), complete: () => (done = true) });
      expect(out).toEqual(['L1+null']);
      expect(done).toBe(true);
    });

    it('forwards table stream errors and rejects a non-table emission', () => {
      let error: unknown;
      (NEVER as Observable<Batch<Row>>).pipe(streamJoin(staticTable<Row>(throwError(() => new Error('no table'))), { on: 'id' })).subscribe({ error: (e: unknown) => (error = e) });
      expect((error as Error).message).toBe('no table');
      fromBatches([[r('L', 1, 0)]])
        .pipe(streamJoin(staticTable(of(42 as unknown as Row[])), { on: 'id' }))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect((error as Error).message).toBe('streamJoin: a static table must be an array or an Immutable collection; got 42.');
    });
  });

  describe('checkpointed state', () => {
    function fakeContext(restored?: { batchId: number; state: unknown }) {
      const published: { batchId: number; keys: string[]; state: unknown }[] = [];
      let spec: StatefulOperatorSpec<unknown> | undefined;
      const context: QueryContext = {
        queryId: 'q',
        runId: 'r',
        scheduler: undefined as never,
        registerState<S>(s: StatefulOperatorSpec<S>): StateHandle<S> {
          // Only the join is followed here; the watermark operators get a handle that restores nothing.
          if (s.kind !== 'streamJoin') return { operatorId: s.kind, restored: undefined, publish: () => undefined };
          spec = s as StatefulOperatorSpec<unknown>;
          return {
            operatorId: s.id,
            restored: restored as { batchId: number; state: S } | undefined,
            publish: (batchId, state, keys) => published.push({ batchId, keys: [...keys], state }),
          };
        },
      };
      return { context, published, spec: () => spec! };
    }
    const inputs = {
      left: [[r('L1', 1, 10), r('L2', 2, 10)], [r('L3', 3, 100)], [r('L4', 4, 200)]],
      right: [[r('R1', 1, 12)], [r('R3', 3, 101)], [r('R4', 4, 200)]],
    };
    const run = (context: QueryContext) => {
      const out: string[][] = [];
      const left$ = fromBatches(inputs.left).pipe(withWatermark('ts', 0));
      const right$ = fromBatches(inputs.right).pipe(withWatermark('ts', 0));
      left$.pipe(inQueryContext(context), streamJoin(right$, { on: 'id', type: 'leftOuter', timeRange: range10s, aligned: true, name: 'j' })).subscribe((b) => out.push(names(b.rows)));
      return out;
    };

    it('publishes an Immutable snapshot once per batch with the changed keys', () => {
      const { context, published, spec } = fakeContext();
      const out = run(context);
      expect(out).toEqual([['L1+R1'], ['L3+R3', 'L2+null'], ['L4+R4']]);
      expect(published.map((p) => p.batchId)).toEqual([0, 1, 2]);
      expect(published[0]!.keys.sort()).toEqual(['L0', 'R0', 'meta']);
      expect(published[1]!.keys.sort()).toEqual(['L0', 'L1', 'R0', 'R1', 'meta']); // L0 and R0 evicted whole at W 101 s
      expect(spec()).toMatchObject({ kind: 'streamJoin', id: 'j', descriptor: { type: 'leftOuter', on: { left: 'id', right: 'id' } } });
      const codec = spec().codec;
      const after0 = published[0]!.state;
      // one segment per side and batch; L1 matched (its flag is kept for the outer join), L2 did not
      expect(codec.get(after0, 'L0')).toEqual({ rows: [r('L1', 1, 10), r('L2', 2, 10)], matched: [0], maxEvictionTime: 10_000 });
      expect(codec.get(after0, 'R0')).toEqual({ rows: [r('R1', 1, 12)], matched: [0], maxEvictionTime: 12_000 });
      expect(codec.get(after0, 'meta')).toEqual({ watermark: 10_000, outputWatermark: 0, leftEvictedUpTo: -1, rightEvictedUpTo: 9_999 });
      // the snapshot of batch 0 is not changed by later batches
      expect([...codec.entries(after0)].map(([k]) => k)).toEqual(['meta', 'L0', 'R0']);
      expect(codec.get(published[2]!.state, 'L0')).toBeUndefined();
    });

    it('restores from a snapshot, skips batches already in it, and continues with the same output', () => {
      const first = fakeContext();
      run(first.context);
      const codec = first.spec().codec;
      const entries = JSON.parse(JSON.stringify([...codec.entries(first.published[0]!.state)])) as [string, unknown][];
      const state = joinStateCodec<Row, Row>().fromEntries(entries) as JoinState<Row, Row>;
      const second = fakeContext({ batchId: 0, state });
      const out = run(second.context);
      expect(out).toEqual([['L3+R3', 'L2+null'], ['L4+R4']]);
      expect(second.published.map((p) => p.batchId)).toEqual([1, 2]);
    });

    it('keeps Date, NaN and -0 values of buffered rows through a checkpoint, so a restored Date key still matches', () => {
      type D = { at: Date; x: number; n: string };
      const codec = joinStateCodec<D, D>();
      const rows: D[] = [{ at: new Date(5), x: Number.NaN, n: 'L1' }, { at: new Date(6), x: -0, n: 'L2' }];
      const left = fromBatches<D>([rows, []]);
      const right = fromBatches<D>([[], [{ at: new Date(5), x: 1, n: 'R1' }]]);
      const first = fakeContext();
      const out: string[] = [];
      left.pipe(inQueryContext(first.context), streamJoin(right, { on: 'at', aligned: true, name: 'j', select: (l, x) => `${l.n}+${x.n}` })).subscribe((b) => out.push(...b.rows));
      expect(out).toEqual(['L1+R1']);
      const entries = JSON.parse(JSON.stringify([...codec.entries(first.published[0]!.state as JoinState<D, D>)])) as [string, unknown][];
      const state = codec.fromEntries(entries);
      const restoredRows = state.left.segments.get(0)!.rows;
      expect(restoredRows[0]!.at).toBeInstanceOf(Date);
      expect(restoredRows[0]!.x).toBeNaN();
      expect(Object.is(restoredRows[1]!.x, -0)).toBe(true);
      const second = fakeContext({ batchId: 0, state });
      const after: string[] = [];
      left.pipe(inQueryContext(second.context), streamJoin(right, { on: 'at', aligned: true, name: 'j', select: (l, x) => `${l.n}+${x.n}` })).subscribe((b) => after.push(...b.rows));
      expect(after).toEqual(['L1+R1']);
      // Rows of plain JSON values are written as they are.
      expect(joinStateCodec<Row, Row>().get({ left: { segments: IMap([[0, { rows: [r('a', 1, 1)], matched: ISet<number>(), maxEvictionTime: 1 }]]), evictedUpTo: undefined }, right: { segments: IMap(), evictedUpTo: undefined }, watermark: 0, outputWatermark: 0 } as never, 'L0')).toEqual({ rows: [r('a', 1, 1)], matched: [], maxEvictionTime: 1 });
    });
  });

  describe('column checks', () => {
    type Loose = Record<string, unknown>;
    const failure = (joined: Observable<Batch<unknown>>): unknown => {
      let error: unknown;
      joined.subscribe({ error: (e: unknown) => (error = e) });
      return error;
    };

    it('without a schema, fails on a batch of either input in which no row has a key or time-range field', () => {
      const left = () => fromBatches<Loose>([[], [{ id: 1, ts: 1 }]]);
      const right = (rows: Loose[]) => fromBatches<Loose>([[], rows]);
      const noLeftKey = failure(left().pipe(streamJoin(right([{ id: 1, ts: 1 }]), { on: { left: 'ident', right: 'id' }, aligned: true })) as never);
      expect(noLeftKey).toBeInstanceOf(ColumnNotFoundError);
      expect((noLeftKey as Error).message).toBe(
        "streamJoin: cannot resolve 'ident' in batch 1: no row has it; input columns present: [id, ts] (on (left)). If the field may be absent from a whole batch (sparse data), pass checkColumns: false.",
      );
      const noRightKey = failure(left().pipe(streamJoin(right([{ key: 1, ts: 1 }]), { on: 'id', aligned: true })) as never);
      expect((noRightKey as Error).message).toContain("streamJoin: cannot resolve 'id' in batch 1: no row has it; input columns present: [key, ts] (on (right)).");
      const noTime = failure(left().pipe(streamJoin(right([{ id: 1, at: 1 }]), { on: 'id', aligned: true, timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: 10 } })) as never);
      expect((noTime as Error).message).toContain("streamJoin: cannot resolve 'ts' in batch 1: no row has it; input columns present: [id, at] (timeRange.rightTime).");
      const out: unknown[] = [];
      left()
        .pipe(streamJoin(right([{ key: 1, ts: 1 }]), { on: 'id', aligned: true, type: 'inner', checkColumns: false }))
        .subscribe({ next: (b) => out.push(...b.rows), error: (e: unknown) => out.push(e) });
      expect(out).toEqual([]); // sparse data: the rows without the key have the null key and match nothing
    });

    it('resolves the keys against the known columns of each input when the pipeline is built', () => {
      const known = (columns: string[]) => withPlan(fromBatches<Loose>([]), { columns });
      expect(() => known(['id', 'ts']).pipe(streamJoin(known(['key', 'ts']), { on: 'id' }))).toThrow("streamJoin: cannot resolve 'id' given input columns: [key, ts] (on (right)).");
      expect(() => known(['id', 'ts']).pipe(streamJoin(known(['id', 'ts']), { on: 'id', timeRange: { leftTime: 'at', rightTime: 'ts', lower: 0 } }))).toThrow(
        "streamJoin: cannot resolve 'at' given input columns: [id, ts] (timeRange.leftTime).",
      );
      expect(() => known(['id', 'ts']).pipe(streamJoin(known(['id', 'ts']), { on: 'id', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0 } }))).not.toThrow();
    });

    it('stream-static: a table in which no row has the key fails on subscribe naming the table columns; a stream batch without it fails naming the batch', () => {
      const table: Loose[] = [{ ident: 1, n: 'T1' }];
      const noTableKey = failure(fromBatches<Loose>([[{ id: 1 }]]).pipe(streamJoin(table, { on: 'id' })) as never);
      expect(noTableKey).toBeInstanceOf(ColumnNotFoundError);
      expect((noTableKey as Error).message).toBe("streamJoin: cannot resolve 'id' given input columns: [ident, n] (on (right)).");
      const replaced = failure(fromBatches<Loose>([[{ id: 1 }]]).pipe(streamJoin(staticTable(of([{ id: 1 }], table)), { on: 'id' })) as never);
      expect((replaced as Error).message).toBe("streamJoin: cannot resolve 'id' given input columns: [ident, n] (on (right)).");
      const noStreamKey = failure(fromBatches<Loose>([[{ ident: 1 }]]).pipe(streamJoin([{ id: 1 }], { on: 'id' })) as never);
      expect((noStreamKey as Error).message).toContain("streamJoin: cannot resolve 'id' in batch 0: no row has it; input columns present: [ident] (on (left)).");
      const out: unknown[] = [];
      fromBatches<Loose>([[{ ident: 1 }]])
        .pipe(streamJoin(table, { on: 'id', type: 'leftOuter', checkColumns: false }))
        .subscribe({ next: (b) => out.push(...b.rows), error: (e: unknown) => out.push(e) });
      expect(out).toEqual([{ left: { ident: 1 }, right: null }]);
      expect(() => streamJoin(table, { on: 'id', checkColumns: 'no' as never })).toThrow('streamJoin: checkColumns must be a boolean; got "no".');
    });
  });

  describe('key types', () => {
    type K = { id: unknown; n: string };
    const failure = (joined: Observable<Batch<unknown>>): unknown => {
      let error: unknown;
      joined.subscribe({ error: (e: unknown) => (error = e) });
      return error;
    };

    it('refuses keys of two types on the two sides (they could never be equal), naming both values and the batch', () => {
      const left = fromBatches<K>([[{ id: 1, n: 'L' }]]);
      const right = fromBatches<K>([[], [{ id: '1', n: 'R' }]]);
      const error = failure(left.pipe(streamJoin(right, { on: 'id' })) as never);
      expect(error).toBeInstanceOf(InvalidValueError);
      expect((error as Error).message).toBe(
        'streamJoin("id"): join keys of two types: left 1 (a number) and right "1" (a string) in batch 2. Keys of two types are never equal, so no row would match. Give the sources a schema or convert the key (mapRows) so that both sides hold the same type.',
      );
      const byFn = failure(left.pipe(streamJoin(fromBatches<K>([[{ id: 'x', n: 'R' }]]), { on: { left: (l) => String(l.id), right: (r) => r.id === 'x' } })) as never);
      expect((byFn as Error).message).toContain('streamJoin("<function>"): join keys of two types: left "1" (a string) and right true (a boolean)');
    });

    it('refuses a side whose key changes type between batches, and passes keys of one type with nulls', () => {
      const mixed = failure(fromBatches<K>([[{ id: 1, n: 'L1' }], [{ id: '2', n: 'L2' }]]).pipe(streamJoin(fromBatches<K>([]), { on: 'id' })) as never);
      expect(mixed).toBeInstanceOf(InvalidValueError);
      expect((mixed as Error).message).toContain('streamJoin("id"): values of two types in one key column (on left): 1 (a number) and "2" (a string) in batch 1.');
      const out: string[] = [];
      fromBatches<K>([[{ id: null, n: 'L0' }, { id: 1, n: 'L1' }]])
        .pipe(streamJoin(fromBatches<K>([[{ id: 1, n: 'R1' }, { id: undefined, n: 'R0' }]]), { on: 'id', aligned: true, select: (l, r) => `${l.n}+${r.n}` }))
        .subscribe((b) => out.push(...b.rows));
      expect(out).toEqual(['L1+R1']);
    });

    it('stream-static: refuses a table whose keys have two types, and stream keys of another type than the table', () => {
      const table = [{ id: 'a', n: 'T' }, { id: 2, n: 'T2' }] as K[];
      const mixedTable = failure(fromBatches<K>([[{ id: 'a', n: 'L' }]]).pipe(streamJoin(table, { on: 'id' })) as never);
      expect((mixedTable as Error).message).toContain('streamJoin("id"): values of two types in one key column (on right): "a" (a string) and 2 (a number).');
      const other = failure(fromBatches<K>([[], [{ id: 1, n: 'L' }]]).pipe(streamJoin([{ id: '1', n: 'T' }] as K[], { on: 'id' })) as never);
      expect((other as Error).message).toContain('streamJoin("id"): join keys of two types: left 1 (a number) and right "1" (a string) in batch 1.');
    });
  });

  describe('range times', () => {
    type T = { id: number; ts: unknown; n: string };
    const failure = (joined: Observable<Batch<unknown>>): unknown => {
      let error: unknown;
      joined.subscribe({ error: (e: unknown) => (error = e) });
      return error;
    };
    const range = { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: 10 } as const;

    it('a range time that is not a time is an EventTimeError naming the side, the batch and the row, never a silent non-match', () => {
      const left = fromBatches<T>([[{ id: 1, ts: 5, n: 'L' }]]);
      const right = fromBatches<T>([[{ id: 1, ts: 6, n: 'R1' }, { id: 1, ts: '02-03-2018 10:15', n: 'R2' }]]);
      const error = failure(left.pipe(streamJoin(right, { on: 'id', aligned: true, timeRange: range })) as never);
      expect(error).toBeInstanceOf(EventTimeError);
      expect((error as Error).message).toBe(
        'streamJoin: event time ts (timeRange.rightTime) is not a valid time in batch 0, row 1; got "02-03-2018 10:15". Use epoch milliseconds, a Date or an ISO-8601 string, or give the time as { field, format } or { field, unit }; null or missing times match nothing.',
      );
      const table = failure(fromBatches<T>([[{ id: 1, ts: 5, n: 'L' }]]).pipe(streamJoin([{ id: 1, ts: true, n: 'T' }] as T[], { on: 'id', timeRange: range })) as never);
      expect((table as Error).message).toContain('streamJoin: event time ts (timeRange.rightTime) is not a valid time in static table row 0; got true.');
      const stream = failure(fromBatches<T>([[], [{ id: 1, ts: 9e15, n: 'L' }]]).pipe(streamJoin([{ id: 1, ts: 5, n: 'T' }] as T[], { on: 'id', timeRange: range })) as never);
      expect((stream as Error).message).toContain('streamJoin: event time ts (timeRange.leftTime) is not a valid time in batch 1, row 0; got 9000000000000000.');
    });

    it('a null or missing range time matches nothing, and an outer row comes out with nulls', () => {
      const out: string[] = [];
      fromBatches<T>([[{ id: 1, ts: null, n: 'L1' }, { id: 1, ts: 5, n: 'L2' }]])
        .pipe(streamJoin([{ id: 1, ts: 6, n: 'T' }, { id: 1, n: 'Tm' } as T], { on: 'id', type: 'leftOuter', timeRange: range, select: (l, r) => `${l.n}+${r?.n ?? 'null'}` }))
        .subscribe((b) => out.push(...b.rows));
      expect(out).toEqual(['L1+null', 'L2+T']);
    });
  });

  describe('misconfiguration', () => {
    const left$ = fromBatches([[r('L', 1, 1)]]);
    const wm = (rows: Row[][]) => fromBatches(rows).pipe(withWatermark<Row>('ts', 0));
    const subscribeError = (obs: Observable<unknown>): unknown => {
      let error: unknown;
      obs.subscribe({ error: (e: unknown) => (error = e) });
      return error;
    };

    it('returns itself when called with no arguments (streamJoin<Left>()) and rejects missing options', () => {
      expect(streamJoin<Row>()).toBe(streamJoin);
      expect(() => streamJoin(left$, undefined as never)).toThrow('streamJoin: options must be an object with at least on; got undefined.');
    });

    it('rejects a stream-stream join without an equality key, with Spark wording', () => {
      expect(() => streamJoin(left$, {} as StreamJoinOptions<Row, Row>)).toThrow(UnsupportedOperationError);
      expect(() => streamJoin(left$, { on: [] })).toThrow('streamJoin: Stream-stream join without equality predicate is not supported');
    });

    it.each([
      ['leftOuter', 'LeftOuter'],
      ['rightOuter', 'RightOuter'],
      ['fullOuter', 'FullOuter'],
      ['leftSemi', 'LeftSemi'],
    ] as const)('rejects a %s join without watermark and range on subscribe, with Spark wording', (type, spark) => {
      const error = subscribeError(wm([[]]).pipe(streamJoin(wm([[]]), { on: 'id', type })));
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as Error).message).toBe(
        `streamJoin: Stream-stream ${spark} join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition`,
      );
    });

    it('rejects a left outer join whose range gives the preserved side no state watermark', () => {
      // rightTime >= leftTime only: bounds the right side, never the left.
      const onlyLower = subscribeError(wm([[]]).pipe(streamJoin(wm([[]]), { on: 'id', type: 'leftOuter', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0 } })));
      expect((onlyLower as Error).message).toContain('Stream-stream LeftOuter join');
      // the nullable side has no watermark
      const noWatermark = subscribeError(wm([[]]).pipe(streamJoin(fromBatches<Row>([[]]), { on: 'id', type: 'leftOuter', timeRange: range10s })));
      expect((noWatermark as Error).message).toContain('Stream-stream LeftOuter join');
      // a range on another column than the watermarked one
      const otherColumn = subscribeError(wm([[]]).pipe(streamJoin(wm([[]]), { on: 'id', type: 'leftOuter', timeRange: { ...range10s, rightTime: 'name' } })));
      expect((otherColumn as Error).message).toContain('Stream-stream LeftOuter join');
      // accepted: right outer needs the left watermark and a lower bound
      expect(subscribeError(wm([[]]).pipe(streamJoin(wm([[]]), { on: 'id', type: 'rightOuter', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: '-5 seconds' } })))).toBeUndefined();
    });

    it('checks on the first batches when a foreign operator hides the plan', () => {
      const hidden = wm([[r('L', 1, 1)]]).pipe(map((b) => b));
      const error = subscribeError(hidden.pipe(streamJoin(fromBatches<Row>([[]]), { on: 'id', type: 'leftOuter', timeRange: range10s })));
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      const fine = subscribeError(hidden.pipe(streamJoin(wm([[]]).pipe(map((b) => b)), { on: 'id', type: 'leftOuter', timeRange: range10s })));
      expect(fine).toBeUndefined();
    });

    it('rejects an input in update or complete output mode, with Spark wording', () => {
      const updating = withPlan(fromBatches<Row>([[]]), { ...EMPTY_PLAN, outputMode: 'update' });
      const error = subscribeError(left$.pipe(streamJoin(updating, { on: 'id' })));
      expect((error as Error).message).toBe('streamJoin: Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode');
      const complete = withPlan(fromBatches<Row>([[]]), { ...EMPTY_PLAN, outputMode: 'complete' });
      expect((subscribeError(complete.pipe(streamJoin(left$, { on: 'id' }))) as Error).message).toContain('in Complete output mode');
    });

    it('rejects full and right outer stream-static joins, with Spark wording', () => {
      expect(() => streamJoin([] as Row[], { on: 'id', type: 'fullOuter' as 'inner' })).toThrow(
        'streamJoin: FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported',
      );
      expect(() => streamJoin([] as Row[], { on: 'id', type: 'rightOuter' as 'inner' })).toThrow(
        'streamJoin: RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/DataSet on the right not supported',
      );
      expect(() => streamJoin([] as Row[], { on: 'id', aligned: true } as never)).toThrow('streamJoin: aligned applies to stream-stream joins only; got true for a stream-static join.');
    });

    it('rejects a bad type, key, range, where, select, policy, aligned and onLateRows', () => {
      expect(() => streamJoin(left$, { on: 'id', type: 'leftAnti' as 'inner' })).toThrow(
        `streamJoin: type must be one of 'inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'; got "leftAnti".`,
      );
      expect(() => streamJoin(left$, { on: 42 as never })).toThrow('streamJoin: on must be a field name, a non-empty list of field names, or { left, right } key specs; got 42.');
      expect(() => streamJoin(left$, { on: { left: ['id', 'ts'], right: 'id' } as never })).toThrow(InvalidOptionError);
      expect(() => streamJoin(left$, { on: 'id', timeRange: { leftTime: 'ts', rightTime: 'ts' } })).toThrow('streamJoin: timeRange needs lower, upper or both');
      expect(() => streamJoin(left$, { on: 'id', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: '1 minute', upper: 0 } })).toThrow('streamJoin: timeRange.lower must not exceed timeRange.upper');
      expect(() => streamJoin(left$, { on: 'id', timeRange: { leftTime: 'ts', rightTime: 'ts', upper: '10 minuts' } })).toThrow(InvalidDurationError);
      expect(() => streamJoin(left$, { on: 'id', timeRange: { leftTime: '' as 'ts', rightTime: 'ts', upper: 0 } })).toThrow('streamJoin: timeRange.leftTime must be a field name, { field, unit?, format? } or a function of the row');
      expect(() => streamJoin(left$, { on: 'id', where: { other: () => true } as never })).toThrow('streamJoin: where must be a function (left, right) => boolean or { left?, right?, both? } of functions');
      expect(() => streamJoin(left$, { on: 'id', select: 'left' as never })).toThrow('streamJoin: select must be a function (left, right) => row; got "left".');
      expect(() => streamJoin(left$, { on: 'id', policy: 'avg' as 'min' })).toThrow("Invalid value for multipleWatermarkPolicy: 'avg'. Valid values are 'min' and 'max'.");
      expect(() => streamJoin(left$, { on: 'id', aligned: 'yes' as never })).toThrow('streamJoin: aligned must be a boolean; got "yes".');
      expect(() => streamJoin(left$, { on: 'id', onLateRows: 5 as never })).toThrow('streamJoin: onLateRows must be a function, an Observer, or { left?, right? } of those; got 5.');
      expect(() => streamJoin(42 as never, { on: 'id' })).toThrow('streamJoin: other must be an Observable of batches, an array, an Immutable collection or staticTable(tables$); got 42.');
      expect(() => staticTable(42 as never)).toThrow('staticTable: tables must be an Observable of tables, an array or an Immutable collection; got 42.');
    });

    it('rejects an empty operator name when it registers its state', () => {
      expect(() => streamJoin(left$, { on: 'id', name: '' })).toThrow(InvalidOptionError);
    });
  });
});
