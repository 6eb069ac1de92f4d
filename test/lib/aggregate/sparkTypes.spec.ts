import fc from 'fast-check';
import { pipe } from 'rxjs';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { windowSession } from '../../../operators/windowSession.js';
import { outputMode } from '../../../operators/outputMode.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { avg } from '../../../lib/aggregate/avg.js';
import { castToDouble } from '../../../lib/aggregate/castToDouble.js';
import { compareValues } from '../../../lib/aggregate/compareValues.js';
import { count } from '../../../lib/aggregate/count.js';
import { first } from '../../../lib/aggregate/first.js';
import { last } from '../../../lib/aggregate/last.js';
import { max } from '../../../lib/aggregate/max.js';
import { min } from '../../../lib/aggregate/min.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { collectList } from '../../../lib/aggregate/collectList.js';
import { collectSet } from '../../../lib/aggregate/collectSet.js';
import { countDistinct } from '../../../lib/aggregate/countDistinct.js';
import { InvalidOptionError, InvalidValueError } from '../../../lib/errors/index.js';
import { runBatches } from '../../../lib/testing/index.js';
import type { Aggregator } from '../../../lib/aggregate/Aggregator.js';

type Row = Record<string, unknown>;

/** Folds rows through one aggregator (init, add, result). */
function fold<R>(agg: Aggregator<Row, unknown, R>, values: unknown[], field = 'x'): R {
  let acc = agg.init();
  for (const v of values) acc = agg.add(acc, { [field]: v });
  return agg.result(acc);
}

/** A checkpoint round trip of an accumulator: encode, JSON, decode. */
function roundTrip<A>(agg: Aggregator<Row, A, unknown>, acc: A): A {
  const json = JSON.parse(JSON.stringify(agg.encode === undefined ? acc : agg.encode(acc))) as unknown;
  return agg.decode === undefined ? (json as A) : agg.decode(json);
}

const totals = (rows: Row[], options?: { onInvalidValue: 'drop' }) =>
  runBatches(pipe(groupAggregate<Row>()({ keyBy: 'id', aggregate: { total: sum('amount', options), mean: avg('amount', options) } }), outputMode('complete')), [rows]);

describe('castToDouble (Spark: CAST(string AS DOUBLE), not ANSI)', () => {
  it.each([
    ['10', 10], [' 2.5 ', 2.5], ['\t-7\n', -7], ['+3', 3], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['2.5E-2', 0.025], ['10d', 10], ['1.5F', 1.5],
    ['0x1.8p1', 3], ['-0x10p0', -16], ['1e400', Infinity], ['-1e400', -Infinity],
  ])('casts %j to %p', (text, expected) => {
    expect(castToDouble(text)).toBe(expected);
  });
  it.each([['NaN'], ['nan'], ['NAN']])('casts %j to NaN', (text) => {
    expect(castToDouble(text)).toBeNaN();
  });
  it.each([['Infinity', Infinity], ['+Infinity', Infinity], ['inf', Infinity], ['+INF', Infinity], ['infinity', Infinity], ['-inf', -Infinity], ['-Infinity', -Infinity]])('casts %j to %p', (text, expected) => {
    expect(castToDouble(text)).toBe(expected);
  });
  it.each([[''], ['   '], ['abc'], ['1,000'], ['10 kg'], ['0x10'], ['1e'], ['--1'], ['1.2.3'], ['١٢']])('casts %j to null', (text) => {
    expect(castToDouble(text)).toBeNull();
  });
  it('agrees with the number a decimal literal denotes (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.constantFrom('', ' ', '\t'), (d, pad) => {
        expect(castToDouble(`${pad}${String(d)}${pad}`)).toBe(Number(String(d)));
      }),
      { numRuns: 100 },
    );
  });
});

describe('sum and avg follow Spark types', () => {
  it('casts numeric text: CSV values "10" and "5" sum to 15 and average 7.5 (never "105")', () => {
    const [step] = totals([{ id: 'apple', amount: '10' }, { id: 'apple', amount: '5' }]);
    expect(step!.rows).toEqual([{ id: 'apple', total: 15, mean: 7.5 }]);
    expect(step!.metrics?.stateOperators?.[0]?.numRowsInvalidValue).toBeUndefined();
  });

  it('sum over ["1", "x", 2] is 3, with one counted invalid value (the uncastable text is null)', () => {
    const [step] = totals([{ id: 'a', amount: '1' }, { id: 'a', amount: 'x' }, { id: 'a', amount: 2 }]);
    expect(step!.rows).toEqual([{ id: 'a', total: 3, mean: 1.5 }]);
    // two aggregates read the field, each counts its invalid value
    expect(step!.metrics?.stateOperators?.[0]?.numRowsInvalidValue).toBe(2);
  });

  it('a group holding only text that is no number sums to null, as Spark', () => {
    expect(fold(sum<Row>('x'), ['', 'abc'])).toBeNull();
    expect(fold(avg<Row>('x'), ['', 'abc'])).toBeNull();
    expect(fold(sum<Row>('x'), [null, undefined])).toBeNull();
  });

  it('counts invalid values per batch, not cumulatively', () => {
    const steps = runBatches(pipe(groupAggregate<Row>()({ keyBy: 'id', aggregate: { total: sum('amount') } }), outputMode('update')), [
      [{ id: 'a', amount: 'x' }],
      [{ id: 'a', amount: 1 }],
      [{ id: 'a', amount: '' }, { id: 'a', amount: 'y' }],
    ]);
    expect(steps.map((s) => s.metrics?.stateOperators?.[0]?.numRowsInvalidValue ?? 0)).toEqual([1, 0, 2]);
    expect(steps.map((s) => s.rows)).toEqual([[{ id: 'a', total: null }], [{ id: 'a', total: 1 }], [{ id: 'a', total: 1 }]]);
  });

  it.each([[true, 'a boolean'], [{ n: 1 }, 'an object'], [[1, 2], 'an array'], [new Date(5), 'a Date']])('refuses %p with an error naming aggregate, field, value and batch', (bad, kind) => {
    const run = () =>
      runBatches(pipe(groupAggregate<Row>()({ keyBy: 'id', aggregate: { total: sum('amount') } }), outputMode('update')), [[{ id: 'a', amount: 1 }], [{ id: 'a', amount: bad }]]);
    expect(run).toThrow(InvalidValueError);
    try {
      run();
    } catch (error) {
      const e = error as InvalidValueError;
      expect(e.aggregate).toBe('sum');
      expect(e.field).toBe('amount');
      expect(e.batchId).toBe(1);
      expect(e.received).toBe(bad);
      expect(e.message).toContain(`sum("amount"): cannot sum`);
      expect(e.message).toContain(`(${kind}) in batch 1`);
      expect(e.message).toContain("onInvalidValue: 'drop'");
    }
  });

  it("drops and counts values of a wrong type with onInvalidValue: 'drop'", () => {
    const [step] = totals([{ id: 'a', amount: true }, { id: 'a', amount: 4 }, { id: 'a', amount: { x: 1 } }], { onInvalidValue: 'drop' });
    expect(step!.rows).toEqual([{ id: 'a', total: 4, mean: 4 }]);
    expect(step!.metrics?.stateOperators?.[0]?.numRowsInvalidValue).toBe(4);
  });

  it('adds a bigint a double holds exactly; refuses (or drops and counts) one beyond ±(2^53 - 1), never rounding it silently', () => {
    expect(fold(sum<Row>('x'), [1n, 2, -3n])).toBe(0);
    expect(fold(avg<Row>('x'), [BigInt(Number.MAX_SAFE_INTEGER), -BigInt(Number.MAX_SAFE_INTEGER)])).toBe(0);
    const big = 2n ** 60n + 1n;
    expect(() => totals([{ id: 'a', amount: big }])).toThrow(/^sum\("amount"\): cannot sum 1152921504606846977n? \(a bigint\): beyond ±\(2\^53 - 1\) a double cannot hold every integer exactly in batch 0/);
    const [step] = totals([{ id: 'a', amount: -big }, { id: 'a', amount: 5n }], { onInvalidValue: 'drop' });
    expect(step!.rows).toEqual([{ id: 'a', total: 5, mean: 5 }]);
    expect(step!.metrics?.stateOperators?.[0]?.numRowsInvalidValue).toBe(2);
  });

  it('names the aggregate in avg errors and in window operators and sessions too', () => {
    expect(() => runBatches(windowTumbling<Row>()({ eventTime: 'ts', size: 10, aggregate: { m: avg('v') } }), [[{ ts: 1, v: false }]])).toThrow(/^avg\("v"\): cannot average false \(a boolean\) in batch 0/);
    const steps = runBatches(windowSession<Row>()({ eventTime: 'ts', gap: 10, keyBy: 'k', aggregate: { s: sum('v') } }), [[{ ts: 1, k: 1, v: 'x' }]]);
    expect(steps[0]!.metrics?.stateOperators?.[0]?.numRowsInvalidValue).toBe(1);
  });

  it('propagates NaN through sum and avg, and adds infinities as doubles', () => {
    expect(fold(sum<Row>('x'), [1, Number.NaN, 2])).toBeNaN();
    expect(fold(avg<Row>('x'), [1, 'NaN'])).toBeNaN();
    expect(fold(sum<Row>('x'), [1, Infinity])).toBe(Infinity);
    expect(fold(sum<Row>('x'), ['inf', '-inf'])).toBeNaN();
  });

  it('keeps NaN and infinities across a checkpoint (JSON has no such numbers)', () => {
    const s = sum<Row>('x');
    expect(s.result(roundTrip(s, s.add(s.init(), { x: Number.NaN })))).toBeNaN();
    expect(s.result(roundTrip(s, s.add(s.init(), { x: -Infinity })))).toBe(-Infinity);
    const a = avg<Row>('x');
    expect(a.result(roundTrip(a, a.add(a.init(), { x: Infinity })))).toBe(Infinity);
    const m = max<Row>('x');
    expect(m.result(roundTrip(m, m.add(m.init(), { x: Number.NaN })))).toBeNaN();
    const f = first<Row>('x');
    expect(f.result(roundTrip(f, f.add(f.init(), { x: new Date(7) })))).toEqual(new Date(7));
  });

  it('rejects a bad onInvalidValue when the aggregator is built', () => {
    expect(() => sum('x', { onInvalidValue: 'skip' as never })).toThrow(new InvalidOptionError("sum: onInvalidValue must be 'error' or 'drop'; got \"skip\".", 'onInvalidValue', 'skip', ''));
  });

  it('merge stays associative with init as identity when text and NaN are mixed in (property)', () => {
    const value = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom('1', ' 2 ', 'x', '', 'NaN', null));
    fc.assert(
      fc.property(fc.array(value), fc.array(value), fc.array(value), (xs, ys, zs) => {
        const s = sum<Row>('x');
        const acc = (vs: unknown[]) => vs.reduce<number | null>((a, v) => s.add(a, { x: v }), s.init());
        const same = (p: number | null, q: number | null) => (p === null ? q === null : q !== null && (Number.isNaN(p) ? Number.isNaN(q) : p === q));
        expect(same(s.merge(s.merge(acc(xs), acc(ys)), acc(zs)), s.merge(acc(xs), s.merge(acc(ys), acc(zs))))).toBe(true);
        expect(same(s.merge(s.init(), acc(xs)), acc(xs))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('min, max, first, last keep their input type', () => {
  it('orders NaN above every number (Spark): max is NaN, min ignores it unless alone', () => {
    expect(fold(max<Row>('x'), [1, Number.NaN, 3])).toBeNaN();
    expect(fold(min<Row>('x'), [Number.NaN, 1, 3])).toBe(1);
    expect(fold(min<Row>('x'), [Number.NaN])).toBeNaN();
    expect(compareValues(Number.NaN, Infinity)).toBe(1);
    expect(compareValues(Number.NaN, Number.NaN)).toBe(0);
  });

  it('orders arrays element by element and structs field by field, as Spark does (not by their JSON text)', () => {
    expect(fold(max<Row>('x'), [[9], [10], [9, 1]])).toEqual([10]); // JSON text would say "[9]" > "[10]"
    expect(fold(min<Row>('x'), [[9, 1], [9], [10]])).toEqual([9]); // a prefix comes first
    expect(compareValues([null, 1], [0, 1])).toBe(-1); // null first inside an array
    expect(compareValues([Number.NaN], [Infinity])).toBe(1);
    expect(fold(max<Row>('x'), [{ a: 2, b: 'x' }, { a: 10, b: 'a' }])).toEqual({ a: 10, b: 'a' });
    expect(compareValues({ a: 1, b: 2 }, { a: 1, b: 10 })).toBe(-1);
    expect(compareValues({ a: 1, b: null }, { a: 1, b: 0 })).toBe(-1);
    expect(compareValues({ a: 1 }, { a: 1 })).toBe(0);
    expect(compareValues([new Date(2)], [new Date(10)])).toBe(-1);
  });

  it('min and max of text compare as text (no cast): "10" < "9"', () => {
    expect(fold(min<Row>('x'), ['9', '10'])).toBe('10');
    expect(fold(max<Row>('x'), [new Date(5), new Date(2)])).toEqual(new Date(5));
  });

  it.each([
    ['min', () => min<Row>('x')],
    ['max', () => max<Row>('x')],
    ['first', () => first<Row>('x')],
    ['last', () => last<Row>('x')],
    ['collectSet', () => collectSet<Row>('x')],
    ['countDistinct', () => countDistinct<Row>('x')],
  ] as const)('%s refuses two types in one group, naming the values and the batch', (name, make) => {
    const run = () => runBatches(pipe(groupAggregate<Row>()({ keyBy: 'k', aggregate: { v: make() } }), outputMode('complete')), [[{ k: 1, x: 5 }, { k: 1, x: null }], [{ k: 1, x: '10' }]] as Row[][]);
    expect(run).toThrow(InvalidValueError);
    expect(run).toThrow(new RegExp(`^${name}\\("x"\\): values of two types in one group: .* in batch 1`));
    // other groups, and nulls, are fine
    expect(runBatches(pipe(groupAggregate<Row>()({ keyBy: 'k', aggregate: { v: make() } }), outputMode('complete')), [[{ k: 1, x: 5 }, { k: 2, x: 'a' }, { k: 1 }]])[0]!.rows).toHaveLength(2);
  });

  it('first and last still count nulls as values (ignoreNulls = false)', () => {
    expect(fold(first<Row>('x'), [null, 1, 2])).toBeNull();
    expect(fold(last<Row>('x'), [1, 2, null])).toBeNull();
    expect(fold(last<Row>('x'), [null, 'a', 'b'])).toBe('b');
  });

  it('reads checkpoints written before the kind was kept ([value])', () => {
    const f = first<Row>('x');
    const acc = f.decode!([3]);
    expect(() => f.add(acc, { x: 'y' })).toThrow(InvalidValueError);
    expect(f.result(acc)).toBe(3);
  });
});

describe('keys are SQL values', () => {
  it('null, undefined and a missing field are one group whose key column is present and null', () => {
    const rows = [{ k: null, v: 1 }, { k: undefined, v: 2 }, { v: 3 }, { k: 'a', v: 4 }];
    const [step] = runBatches(pipe(groupAggregate<Row>()({ keyBy: 'k', aggregate: { n: count(), s: sum('v') } }), outputMode('complete')), [rows]);
    expect(step!.rows).toEqual([{ k: null, n: 3, s: 6 }, { k: 'a', n: 1, s: 4 }]);
    expect(Object.keys(step!.rows[0]!)).toEqual(['k', 'n', 's']);
    const [multi] = runBatches(pipe(groupAggregate<Row>()({ keyBy: ['k', 'j'], aggregate: { n: count() } }), outputMode('complete')), [[{ k: null, j: 1 }, { j: 1 }]]);
    expect(multi!.rows).toEqual([{ k: null, j: 1, n: 2 }]);
    const [fn] = runBatches(pipe(groupAggregate<Row>()({ keyBy: (r) => r.k, aggregate: { n: count() } }), outputMode('complete')), [[{ k: null }, {}]]);
    expect(fn!.rows).toEqual([{ key: null, n: 2 }]);
  });

  it('also in windows: one null group per window', () => {
    const [step] = runBatches(pipe(withWatermark<Row>('ts', 0), windowTumbling<Row>()({ eventTime: 'ts', size: 10, keyBy: 'k', aggregate: { n: count() } }), outputMode('complete')), [[{ ts: 1, k: null }, { ts: 2 }]]);
    expect(step!.rows).toEqual([{ window: { start: 0, end: 10 }, k: null, n: 2 }]);
  });

  it.each([['__proto__'], ['constructor'], ['prototype'], ['toString'], ['hasOwnProperty']])('%s is an ordinary column: as key, aggregate field and aggregate name', (col) => {
    const row = (k: unknown, v: unknown): Row => {
      const r: Row = {};
      Object.defineProperty(r, col, { value: k, enumerable: true, writable: true, configurable: true });
      r.v = v;
      return r;
    };
    const rows = [row('x', 1), row('x', 2), row('y', 3), { v: 4 }];
    const [step] = runBatches(pipe(groupAggregate<Row>()({ keyBy: col, aggregate: { n: count(), s: sum('v'), l: collectList(col) } }), outputMode('complete')), [rows]);
    const out = step!.rows as readonly Row[];
    expect(out).toHaveLength(3);
    for (const r of out) {
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(Object.keys(r)).toEqual([col, 'n', 's', 'l']);
    }
    expect(out.map((r) => [Object.getOwnPropertyDescriptor(r, col)?.value, r.n, r.s, r.l])).toEqual([['x', 2, 3, ['x', 'x']], ['y', 1, 3, ['y']], [null, 1, 4, []]]);
    // an aggregate named like it, over a column named like it
    const agg: Row = {};
    Object.defineProperty(agg, col, { value: max(col), enumerable: true });
    const [m] = runBatches(pipe(groupAggregate<Row>()({ aggregate: agg as Record<string, Aggregator<Row, unknown, unknown>> }), outputMode('complete')), [[row({ evil: true }, 0)]]);
    const only = m!.rows[0] as Row;
    expect(Object.getPrototypeOf(only)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(only, col)?.value).toEqual({ evil: true });
  });
});
