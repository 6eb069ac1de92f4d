import fc from 'fast-check';
import { pipe } from 'rxjs';
import { dropDuplicates } from '../../operators/dropDuplicates.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { runBatches } from '../../lib/testing/index.js';

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
