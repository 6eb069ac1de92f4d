import fc from 'fast-check';
import { pipe, type Observable } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { dropDuplicates } from '../../operators/dropDuplicates.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { runBatches } from '../../lib/testing/index.js';
import { inQueryContext } from '../../lib/internal/pipeline.js';
import type { QueryContext } from '../../lib/state/StateStore.js';

type Row = { id: number; tag: string; ts: number };
const rowArb = fc.record({ id: fc.integer({ min: 0, max: 6 }), tag: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 1, max: 40 }) });
/** Cuts `rows` into consecutive batches at the given cut points. */
const split = <T>(rows: readonly T[], cuts: readonly number[]): T[][] => {
  const points = [...new Set(cuts.map((c) => c % (rows.length + 1)))].sort((x, y) => x - y);
  const out: T[][] = [];
  let from = 0;
  for (const p of points) {
    out.push(rows.slice(from, p));
    from = p;
  }
  out.push(rows.slice(from));
  return out;
};
const keyOf = (r: Row): string => `${r.id}|${r.tag}`;
/** The model: the first row of every key, in arrival order. */
const firstOccurrences = (rows: readonly Row[], key: (r: Row) => string): Row[] => {
  const seen = new Set<string>();
  return rows.filter((r) => (seen.has(key(r)) ? false : (seen.add(key(r)), true)));
};
const params = { numRuns: 100 };

describe('dropDuplicates laws', () => {
  it('emits exactly the first occurrence of every key, in order, however the rows are batched', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 5 }), (rows, cuts) => {
        const out = runBatches(dropDuplicates<Row>(['id', 'tag']), split(rows, cuts)).flatMap((s) => s.rows);
        expect(out).toEqual(firstOccurrences(rows, keyOf));
      }),
      params,
    );
  });

  it('is idempotent: deduplicating the output again changes nothing', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 5 }), (rows, cuts) => {
        const batches = split(rows, cuts);
        const once = runBatches(dropDuplicates<Row>(), batches).map((s) => s.rows);
        const twice = runBatches(pipe(dropDuplicates<Row>(), dropDuplicates<Row>()), batches).map((s) => s.rows);
        expect(twice).toEqual(once);
        expect(runBatches(dropDuplicates<Row>(), once).flatMap((s) => s.rows)).toEqual(once.flat());
      }),
      params,
    );
  });

  it('with a watermark and nothing late, the output does not depend on batch splitting', () => {
    // Rows sorted by event time with a delay larger than the whole time range: nothing is ever late,
    // and keys are evicted only for event times nothing later can repeat.
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 5 }), (raw, cutsA, cutsB) => {
        const rows = [...raw].sort((x, y) => x.ts - y.ts);
        const run = (cuts: readonly number[]) =>
          runBatches(pipe(withWatermark<Row>('ts', 5), dropDuplicates<Row>(['id', 'ts'])), split(rows, cuts)).flatMap((s) => s.rows);
        const a = run(cutsA);
        expect(run(cutsB)).toEqual(a);
        expect(a).toEqual(firstOccurrences(rows, (r) => `${r.id}|${r.ts}`));
      }),
      params,
    );
  });
});

/** A query context that registers every operator and keeps nothing: the deduplication then keeps every key in its segments, as under a checkpoint. */
const trackingContext = (): QueryContext => ({
  queryId: 'q',
  runId: 'r',
  scheduler: undefined as never,
  registerState: (spec) => ({ operatorId: spec.id ?? spec.kind, restored: undefined, publish: () => undefined }),
});

describe('dropDuplicates without a query context', () => {
  // Keys on (event time, other column): rows whose other column is a number or a string take the
  // fast path (their keys live only in the time index when untracked), the others (an object, a
  // missing value) the general one.
  type Loose = { id?: unknown; ts: number };
  const looseRow = fc.record({
    id: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 2, arbitrary: fc.constantFrom('a', 'b') }, { weight: 1, arbitrary: fc.constant({ x: 1 }) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    ts: fc.integer({ min: 1, max: 60 }),
  });
  const run = (batches: Loose[][], fields: readonly string[], tracked: boolean) =>
    runBatches(pipe(tracked ? inQueryContext<Loose>(trackingContext()) : (batches$: Observable<Batch<Loose>>) => batches$, withWatermark<Loose>('ts', 4), dropDuplicates<Loose>(fields as never)), batches).map((s) => {
      const op = s.metrics!.stateOperators!.find((o) => o.operatorName === 'dropDuplicates')!;
      return { rows: s.rows, total: op.numRowsTotal, updated: op.numRowsUpdated, removed: op.numRowsRemoved, late: op.numRowsDroppedByWatermark, bytes: op.memoryUsedBytes, custom: op.customMetrics };
    });

  it('emits the same rows with the same state metrics as when it keeps every key in its segments', () => {
    fc.assert(
      fc.property(fc.array(looseRow, { maxLength: 50 }), fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom(['id', 'ts'], ['ts', 'id'], ['ts']), (rows, cuts, fields) => {
        const batches = split(rows, cuts);
        const untracked = run(batches, fields, false);
        expect(untracked).toEqual(run(batches, fields, true));
      }),
      { numRuns: 200 },
    );
  });
});
