import fc from 'fast-check';
import { Observable, Subject } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { toBatches } from '../../lib/batch/toBatches.js';
import { canonicalRow } from '../../lib/testing/rows.js';
import { streamJoin, type JoinType } from '../../operators/streamJoin.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { inQueryContext } from '../../lib/internal/pipeline.js';
import type { QueryContext } from '../../lib/state/StateStore.js';

interface Row {
  readonly n: string;
  /** The join key: SQL null when `null` or missing (never matches). */
  readonly id?: number | null;
  readonly ts: number;
}
interface Range {
  readonly lower: number;
  readonly upper: number;
}

/** A join key: mostly small integers, sometimes `null`, `undefined` or missing altogether. */
const joinKey = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }).map((id) => ({ id })) },
  { weight: 1, arbitrary: fc.constant({ id: null }) },
  { weight: 1, arbitrary: fc.constant({ id: undefined }) },
  { weight: 1, arbitrary: fc.constant({}) },
);
const rows = (prefix: string) =>
  fc.array(fc.tuple(joinKey, fc.integer({ min: 1, max: 100 })), { maxLength: 12 }).map((xs) => xs.map(([key, ts], i): Row => ({ n: `${prefix}${i}`, ...key, ts })));
/** Cuts `xs` into consecutive batches (empty ones included) at the given sizes; the rest is the last batch. */
function split<T>(xs: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  for (const size of sizes) {
    out.push(xs.slice(i, i + size));
    i += size;
  }
  out.push(xs.slice(i));
  return out;
}
const scenario = fc.record({
  left: rows('L'),
  right: rows('R'),
  leftSizes: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 6 }),
  rightSizes: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 6 }),
  order: fc.array(fc.boolean(), { maxLength: 20 }),
  range: fc.option(fc.record({ lower: fc.integer({ min: -30, max: 0 }), upper: fc.integer({ min: 0, max: 30 }) }), { nil: undefined }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/** SQL equality of the keys (a null key equals nothing, not even another null) and the time range. */
const matches = (l: Row, r: Row, range: Range | undefined): boolean =>
  l.id !== null && l.id !== undefined && l.id === r.id && (range === undefined || (l.ts + range.lower <= r.ts && r.ts <= l.ts + range.upper));

/** Runs the join over the scenario's batches, arriving in the generated order; a last batch per side pushes the watermark past everything. */
function runJoin(s: Scenario, type: JoinType, swap = false): string[] {
  const leftIn = new Subject<readonly Row[]>();
  const rightIn = new Subject<readonly Row[]>();
  const out: string[] = [];
  const range = s.range === undefined ? undefined : swap ? { leftTime: 'ts' as const, rightTime: 'ts' as const, lower: -s.range.upper, upper: -s.range.lower } : { leftTime: 'ts' as const, rightTime: 'ts' as const, ...s.range };
  leftIn
    .pipe(
      toBatches(),
      withWatermark<Row>('ts', '1 day'),
      streamJoin(rightIn.pipe(toBatches(), withWatermark<Row>('ts', '1 day')), {
        on: 'id',
        type,
        checkColumns: false, // a batch may have no row with an id at all (sparse data)
        ...(range === undefined ? {} : { timeRange: range }),
        select: (l: Row | null, r: Row | null) => (swap ? `${r?.n ?? '-'}+${l?.n ?? '-'}` : `${l?.n ?? '-'}+${r?.n ?? '-'}`),
      }),
    )
    .subscribe((b) => out.push(...(b.rows as unknown as string[])));
  const [first, second] = [leftIn, rightIn];
  const a = split(swap ? s.right : s.left, swap ? s.rightSizes : s.leftSizes);
  const b = split(swap ? s.left : s.right, swap ? s.leftSizes : s.rightSizes);
  let i = 0;
  let j = 0;
  for (let k = 0; i < a.length || j < b.length; k++) {
    const takeFirst = j >= b.length || (i < a.length && (s.order[k % Math.max(1, s.order.length)] ?? true));
    if (takeFirst) first.next(a[i++]!);
    else second.next(b[j++]!);
  }
  // Far-future rows (id 9, never matching a real row) move the watermark past every real row.
  first.next([{ n: 'X', id: 9, ts: 1e12 }]);
  second.next([{ n: 'Y', id: 9, ts: 1e12 + 5e11 }]);
  first.next([{ n: 'Z', id: 9, ts: 2e12 }]);
  return out.filter((x) => !/[XYZ]/.test(x)).sort();
}

function nestedLoop(s: Scenario, type: JoinType): string[] {
  const out: string[] = [];
  for (const l of s.left) for (const r of s.right) if (matches(l, r, s.range)) out.push(`${l.n}+${r.n}`);
  if (type === 'leftOuter' || type === 'fullOuter') for (const l of s.left) if (!s.right.some((r) => matches(l, r, s.range))) out.push(`${l.n}+-`);
  if (type === 'fullOuter') for (const r of s.right) if (!s.left.some((l) => matches(l, r, s.range))) out.push(`-+${r.n}`);
  return out.sort();
}

/** A query context that registers every operator and keeps nothing: the join then keeps its checkpointed segments up to date, as under a checkpoint. */
const trackingContext = (): QueryContext => ({
  queryId: 'q',
  runId: 'r',
  scheduler: undefined as never,
  registerState: (spec) => ({ operatorId: spec.id ?? spec.kind, restored: undefined, publish: () => undefined }),
});

/** The output batches of a join over the scenario with a small watermark delay (rows leave the state as the stream goes), with or without a query context. */
function joinBatches(s: Scenario, type: JoinType, tracked: boolean): string[][] {
  const leftIn = new Subject<readonly Row[]>();
  const rightIn = new Subject<readonly Row[]>();
  const out: string[][] = [];
  const range = s.range === undefined ? undefined : { leftTime: 'ts' as const, rightTime: 'ts' as const, ...s.range };
  const left$ = leftIn.pipe(toBatches(), withWatermark<Row>('ts', 5));
  (tracked ? left$.pipe(inQueryContext(trackingContext())) : left$)
    .pipe(
      // An Observable with no link to its source hides the right input's watermark from the plan until its first batch.
      streamJoin(new Observable<Batch<Row>>((subscriber) => rightIn.pipe(toBatches(), withWatermark<Row>('ts', 3)).subscribe(subscriber)), {
        on: 'id',
        type,
        checkColumns: false,
        ...(range === undefined ? {} : { timeRange: range }),
        select: (l: Row | null, r: Row | null) => `${l?.n ?? '-'}+${r?.n ?? '-'}`,
      }),
    )
    .subscribe((b) => out.push([...(b.rows as unknown as string[])].sort()));
  const a = split(s.left, s.leftSizes);
  const b = split(s.right, s.rightSizes);
  let i = 0;
  let j = 0;
  for (let k = 0; i < a.length || j < b.length; k++) {
    if (j >= b.length || (i < a.length && (s.order[k % Math.max(1, s.order.length)] ?? true))) leftIn.next(a[i++]!);
    else rightIn.next(b[j++]!);
  }
  leftIn.next([{ n: 'X', id: 9, ts: 1e12 }]);
  rightIn.next([{ n: 'Y', id: 9, ts: 1e12 + 5e11 }]);
  return out;
}

describe('streamJoin laws', () => {
  it('emits the same batches whether or not it keeps its checkpointed segments (no query context), as rows leave the state', () => {
    // Untracked, the live buffers are the only state: a change of eviction rule (the other input's
    // first batch makes its watermarked column known) files their rows again instead of
    // rebuilding them from the segments.
    const joinType = fc.constantFrom<JoinType>('inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi');
    fc.assert(
      fc.property(scenario.filter((s) => s.range !== undefined), joinType, (s, type) => {
        const tracked = joinBatches(s, type, true);
        expect(joinBatches(s, type, false)).toEqual(tracked);
      }),
      { numRuns: 150 },
    );
  });

  it('an inner join emits exactly the nested-loop join (null keys matching nothing), however rows are split into batches and interleaved', () => {
    fc.assert(fc.property(scenario, (s) => expect(runJoin(s, 'inner')).toEqual(nestedLoop(s, 'inner'))), { numRuns: 100 });
  });

  it('an inner join gives the same pairs with its sides swapped', () => {
    fc.assert(fc.property(scenario, (s) => expect(runJoin(s, 'inner', true)).toEqual(runJoin(s, 'inner'))), { numRuns: 100 });
  });

  it('outer joins add each unmatched row (null-keyed ones included) once with nulls, once the watermark has passed it', () => {
    const withRange = scenario.filter((s) => s.range !== undefined);
    fc.assert(
      fc.property(withRange, (s) => {
        expect(runJoin(s, 'leftOuter')).toEqual(nestedLoop(s, 'leftOuter'));
        expect(runJoin(s, 'fullOuter')).toEqual(nestedLoop(s, 'fullOuter'));
      }),
      { numRuns: 100 },
    );
  });

  it('a left semi join emits each left row with a partner exactly once', () => {
    const withRange = scenario.filter((s) => s.range !== undefined);
    fc.assert(
      fc.property(withRange, (s) => {
        const got = runJoin(s, 'leftSemi').map((x) => x.split('+')[0]!);
        const expected = s.left.filter((l) => s.right.some((r) => matches(l, r, s.range))).map((l) => l.n).sort();
        expect(got).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps the output watermark monotone', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1_000_000 })), { maxLength: 30 }), (steps) => {
        const leftIn = new Subject<readonly Row[]>();
        const rightIn = new Subject<readonly Row[]>();
        const wms: number[] = [];
        leftIn
          .pipe(toBatches(), withWatermark<Row>('ts', 1000), streamJoin(rightIn.pipe(toBatches(), withWatermark<Row>('ts', 500)), { on: 'id', type: 'leftOuter', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: -100, upper: 100 } }))
          .subscribe((b) => wms.push(b.watermark));
        for (const [left, ts] of steps) (left ? leftIn : rightIn).next([{ n: 'x', id: ts % 3, ts }]);
        expect(wms).toEqual([...wms].sort((a, b) => a - b));
        expect(canonicalRow(wms.filter((w) => w < 0))).toBe('[]');
      }),
      { numRuns: 100 },
    );
  });
});
