import fc from 'fast-check';
import { TimeIndex } from '../../../lib/dedupe/TimeIndex.js';

describe('TimeIndex', () => {
  it('drains entries due at a limit, earliest time first, inclusive or strict', () => {
    const index = new TimeIndex();
    index.add(30, 'c');
    index.add(10, 'a');
    index.add(20, 'b');
    index.add(10, 'a2');
    index.add(Number.POSITIVE_INFINITY, 'never');
    const got: [unknown, number][] = [];
    index.drain(20, true, (k, t) => got.push([k, t]));
    expect(got).toEqual([['a', 10], ['a2', 10]]);
    index.drain(20, false, (k, t) => got.push([k, t]));
    expect(got).toEqual([['a', 10], ['a2', 10], ['b', 20]]);
    expect(index.size).toBe(1);
    index.drain(Number.POSITIVE_INFINITY, false, (k) => got.push([k, 0]));
    expect(got.map((g) => g[0])).toEqual(['a', 'a2', 'b', 'c']);
    expect(index.size).toBe(0);
  });

  it('matches a sorted model for any sequence of adds and drains', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 0, max: 50 }) }), fc.record({ drain: fc.integer({ min: 0, max: 50 }) })), { maxLength: 60 }), (ops) => {
        const index = new TimeIndex();
        let model: [number, number][] = [];
        let n = 0;
        for (const op of ops) {
          if ('add' in op) {
            index.add(op.add, n);
            model.push([op.add, n++]);
          } else {
            const got: number[] = [];
            index.drain(op.drain, false, (_k, t) => got.push(t));
            const due = model.filter(([t]) => t <= op.drain).map(([t]) => t).sort((x, y) => x - y);
            model = model.filter(([t]) => t > op.drain);
            expect(got).toEqual(due);
          }
        }
        expect(index.size).toBe(model.length);
      }),
      { numRuns: 100 },
    );
  });
});
