import fc from 'fast-check';
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import type { Aggregator } from '../../../lib/aggregate/Aggregator.js';
import { accumulatorFactory, rowFolder } from '../../../lib/aggregate/rowFolder.js';

type Row = Record<string, unknown>;

/** Folds the rows through each aggregator's own `add`: what the inlined folder must equal. */
function byAdd(aggs: readonly Aggregator<Row, unknown, unknown>[], rows: readonly Row[]): unknown[] {
  const accs = aggs.map((a) => a.init());
  for (const row of rows) for (let j = 0; j < aggs.length; j++) accs[j] = aggs[j]!.add(accs[j] as never, row);
  return accs;
}

function byFolder(aggs: readonly Aggregator<Row, unknown, unknown>[], rows: readonly Row[]): unknown[] {
  const accs = accumulatorFactory(aggs)();
  const fold = rowFolder(aggs);
  for (const row of rows) fold(accs, row);
  return accs;
}

// Numbers (including -0, NaN, infinities), numeric and non-numeric text, null and missing values.
const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom('12', ' 3.5 ', 'abc', '', null, undefined, '-0'));
const rows = fc.array(fc.record({ v: value }, { requiredKeys: [] }), { maxLength: 40 });

describe('rowFolder', () => {
  const shapes: [string, () => Aggregator<Row, unknown, unknown>[]][] = [
    ['sum', () => [sum<Row>('v', { onInvalidValue: 'drop' }) as never]],
    ['count', () => [count<Row>() as never]],
    ['sum, count', () => [sum<Row>('v', { onInvalidValue: 'drop' }) as never, count<Row>() as never]],
    ['count, sum', () => [count<Row>() as never, sum<Row>('v', { onInvalidValue: 'drop' }) as never]],
    ['sum, count(field) (not inlined)', () => [sum<Row>('v', { onInvalidValue: 'drop' }) as never, count<Row>('v') as never]],
  ];
  it.each(shapes)('folds %s as the aggregators’ own add does', (_name, make) => {
    fc.assert(
      fc.property(rows, (rs) => {
        expect(byFolder(make(), rs)).toEqual(byAdd(make(), rs));
      }),
    );
  });

  it('an inlined sum still fails on a value of the wrong type (policy error)', () => {
    const fold = rowFolder<Row>([sum<Row>('v') as never, count<Row>() as never]);
    const accs: unknown[] = [null, 0];
    fold(accs, { v: 2 });
    expect(() => fold(accs, { v: true })).toThrow(/sum/);
  });
});
