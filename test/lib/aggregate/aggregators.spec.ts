import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { avg } from '../../../lib/aggregate/avg.js';
import { min } from '../../../lib/aggregate/min.js';
import { max } from '../../../lib/aggregate/max.js';
import { first } from '../../../lib/aggregate/first.js';
import { last } from '../../../lib/aggregate/last.js';
import { collectList } from '../../../lib/aggregate/collectList.js';
import { collectSet } from '../../../lib/aggregate/collectSet.js';
import { countDistinct } from '../../../lib/aggregate/countDistinct.js';
import { compileAggregates, type Aggregator } from '../../../lib/aggregate/Aggregator.js';
import { compileKey, decodeKeyValue, encodeKeyValue, keyFromJson, keyToJson, needsCanonical } from '../../../lib/aggregate/groupKey.js';
import { InvalidOptionError, InvalidValueError } from '../../../lib/errors/index.js';

type Row = { x?: number | null; s?: string; d?: Date };

/** Folds rows into one accumulator per chunk, merges the chunks, and returns the result. */
function run<A, R>(agg: Aggregator<Row, A, R>, ...chunks: Row[][]): R {
  let acc = agg.init();
  for (const chunk of chunks) {
    let part = agg.init();
    for (const row of chunk) part = agg.add(part, row);
    acc = agg.merge(acc, part);
  }
  return agg.result(acc);
}

describe('built-in aggregators', () => {
  it('count() counts rows; count(field) counts non-null values', () => {
    expect(run(count(), [{}, {}], [{}])).toBe(3);
    expect(run(count<Row>('x'), [{ x: 1 }, { x: null }, {}])).toBe(1);
    expect(run(count())).toBe(0);
  });

  it('sum ignores nulls and is null when nothing was summed (Spark)', () => {
    expect(run(sum<Row>('x'), [{ x: 1 }, { x: null }], [{ x: 4 }])).toBe(5);
    expect(run(sum<Row>('x'), [{ x: null }, {}])).toBeNull();
    expect(run(sum<Row>((r) => (r.x ?? 0) * 2), [{ x: 3 }])).toBe(6);
  });

  it('avg is the mean of non-null values, null when none', () => {
    expect(run(avg<Row>('x'), [{ x: 1 }, { x: 2 }], [{ x: 6 }, { x: null }])).toBe(3);
    expect(run(avg<Row>('x'), [{}])).toBeNull();
  });

  it('min and max compare numbers, strings and Dates, ignoring nulls', () => {
    expect(run(min('x'), [{ x: 5 }, { x: null }], [{ x: -2 }, { x: 7 }])).toBe(-2);
    expect(run(max('x'), [{ x: 5 }, { x: null }], [{ x: -2 }, { x: 7 }])).toBe(7);
    expect(run(max('s'), [{ s: 'apple' }, { s: 'pear' }])).toBe('pear');
    const d1 = new Date(1000);
    const d2 = new Date(2000);
    expect(run(min('d'), [{ d: d2 }], [{ d: d1 }])).toBe(d1);
    expect(run(min('x'), [{}])).toBeNull();
  });

  it('first and last follow arrival order and keep nulls (ignoreNulls = false)', () => {
    expect(run(first('x'), [{ x: null }, { x: 2 }], [{ x: 3 }])).toBeNull();
    expect(run(first('x'), [{ x: 1 }, { x: 2 }], [{ x: 3 }])).toBe(1);
    expect(run(last('x'), [{ x: 1 }], [{ x: 2 }, { x: 3 }], [])).toBe(3);
    expect(run(last('x'))).toBeNull();
  });

  it('collectList keeps arrival order, collectSet distinct values, countDistinct their number', () => {
    const chunks: Row[][] = [[{ s: 'a' }, { s: 'b' }], [{ s: 'a' }, {}], [{ s: 'c' }]];
    expect(run(collectList('s'), ...chunks)).toEqual(['a', 'b', 'a', 'c']);
    expect(run(collectSet('s'), ...chunks)).toEqual(['a', 'b', 'c']);
    expect(run(countDistinct<Row>('s'), ...chunks)).toBe(3);
  });

  it('collectSet and countDistinct compare Dates, arrays and objects by value (Spark compares structs and arrays by value), keeping types', () => {
    type V = { v?: unknown };
    // One kind per group (a column has one type); each list is one group's values, split into two chunks.
    const groups: unknown[][] = [
      [new Date(5), new Date(5), new Date(6), null, undefined],
      [[1, 'a'], [1, 'a'], [1, 'b']],
      [{ p: 1, q: [2] }, { q: [2], p: 1 }, { p: 2, q: [2] }],
      ['x', 'x', '1'],
      [1, Number.NaN, Number.NaN, -0, 0],
    ];
    const expected: unknown[][] = [[new Date(5), new Date(6)], [[1, 'a'], [1, 'b']], [{ p: 1, q: [2] }, { p: 2, q: [2] }], ['x', '1'], [1, Number.NaN, 0]];
    groups.forEach((values, g) => {
      const chunks: V[][] = [values.slice(0, 2).map((v) => ({ v })), values.slice(2).map((v) => ({ v }))];
      const set = run(collectSet<V, 'v'>('v') as unknown as Aggregator<Row, unknown, unknown[]>, ...(chunks as Row[][]));
      expect(set).toEqual(expected[g]);
      expect(run(countDistinct<V>('v') as unknown as Aggregator<Row, unknown, number>, ...(chunks as Row[][]))).toBe(expected[g]!.length);
      // Through a checkpoint: the values come back with their types, and equal values stay one.
      const agg = collectSet<V, 'v'>('v');
      let acc = agg.init();
      for (const v of values) acc = agg.add(acc, { v });
      const restored = agg.decode!(JSON.parse(JSON.stringify(agg.encode!(acc))) as unknown);
      expect(agg.result(agg.add(restored, { v: values[0] }))).toEqual(set);
    });
    expect(Object.is(run(collectSet<Row, 's'>('s'), [{ s: -0 as unknown as string }])[0], 0)).toBe(true);
    expect(run(collectSet<V, 'v'>('v') as unknown as Aggregator<Row, unknown, unknown[]>, [{ v: new Date(5) } as unknown as Row])[0]).toBeInstanceOf(Date);
    // Two kinds in one group (1 and '1' would be two distinct values) are refused, naming both, in the chunk and in a merge.
    expect(() => run(countDistinct<V>('v') as unknown as Aggregator<Row, unknown, number>, [{ v: 1 }, { v: '1' }] as unknown as Row[])).toThrow(/countDistinct\("v"\): values of two types in one group: 1 \(a number\) and "1" \(a string\)/);
    expect(() => run(collectSet<V, 'v'>('v') as unknown as Aggregator<Row, unknown, unknown[]>, [{ v: 1 }] as unknown as Row[], [{ v: new Date(5) }] as unknown as Row[])).toThrow(InvalidValueError);
  });

  it('encodes Set accumulators as JSON arrays and reads them back', () => {
    const agg = countDistinct<Row>('s');
    const acc = agg.add(agg.add(agg.init(), { s: 'a' }), { s: 'b' });
    const json = JSON.parse(JSON.stringify(agg.encode!(acc))) as unknown;
    expect(json).toEqual(['a', 'b']);
    expect(agg.result(agg.decode!(json))).toBe(2);
  });

  it('merge does not mutate its arguments', () => {
    const list = collectList<Row, 's'>('s');
    const a = Object.freeze(['x']) as unknown as string[];
    const b = Object.freeze(['y']) as unknown as string[];
    expect(list.merge(a, b)).toEqual(['x', 'y']);
    const set = collectSet<Row, 's'>('s');
    const sa = set.add(set.init(), { s: 'x' });
    set.merge(sa, set.add(set.init(), { s: 'y' }));
    expect(set.result(sa)).toEqual(['x']);
    const mean = avg<Row>('x');
    const ma: [number, number] = [1, 1];
    mean.merge(ma, [2, 1]);
    expect(ma).toEqual([1, 1]);
  });

  it('a user aggregator { init, add, merge, result } works like a built-in', () => {
    const product: Aggregator<Row, number, number> = { init: () => 1, add: (acc, r) => acc * (r.x ?? 1), merge: (a, b) => a * b, result: (acc) => acc };
    expect(run(product, [{ x: 2 }, { x: 3 }], [{ x: 4 }])).toBe(24);
  });

  describe('misconfiguration', () => {
    it('rejects a field that is neither a name nor a function', () => {
      expect(() => sum(42 as unknown as string)).toThrow(InvalidOptionError);
      expect(() => sum('' as string)).toThrow('sum: field must be a field name or a function of the row; got "".');
    });

    it('rejects an empty aggregate record and non-aggregators, naming them', () => {
      expect(() => compileAggregates('windowTumbling', {}, [])).toThrow('windowTumbling: aggregate must be a non-empty record of aggregators; got {}.');
      expect(() => compileAggregates('windowTumbling', { n: { init: () => 0 } }, [])).toThrow('windowTumbling: aggregate.n must be an aggregator { init, add, merge, result }; got {}.');
      expect(() => compileAggregates('windowTumbling', { window: count() }, ['window'])).toThrow('windowTumbling: aggregate.window clashes with a column of the result row; got "window".');
    });
  });
});

describe('compileKey', () => {
  it('reads one field, several fields, or a function; canonical keys are primitives', () => {
    const one = compileKey<{ a: string; b: number }>('op', 'a');
    expect(one.raw({ a: 'x', b: 1 })).toBe('x');
    const many = compileKey<{ a: string; b: number }>('op', ['a', 'b']);
    const raw = many.raw({ a: 'x', b: 1 });
    expect(many.canonical(raw)).toBe(many.canonical(['x', 1]));
    expect(many.canonical(['1', 1])).not.toBe(many.canonical([1, 1]));
    const target: Record<string, unknown> = {};
    many.write(target, raw);
    expect(target).toEqual({ a: 'x', b: 1 });
  });

  it('writes a function key returning an object as its fields, anything else as `key`', () => {
    const obj = compileKey<{ u: string }>('op', (r) => ({ user: r.u.toLowerCase() }));
    const t1: Record<string, unknown> = {};
    obj.write(t1, obj.raw({ u: 'ANN' }));
    expect(t1).toEqual({ user: 'ann' });
    const prim = compileKey<{ u: string }>('op', (r) => r.u.length);
    const t2: Record<string, unknown> = {};
    prim.write(t2, prim.raw({ u: 'ANN' }));
    expect(t2).toEqual({ key: 3 });
    expect(obj.canonical({ user: 'a' })).toBe(obj.canonical({ user: 'a' }));
  });

  it('compares keys as Spark groups them: NaN is one key apart from null, -0 is 0, Dates by time apart from their text, objects by value', () => {
    const many = compileKey<Record<string, unknown>>('op', ['a', 'b']);
    expect(many.canonical(many.raw({ a: Number.NaN, b: 'x' }))).toBe(many.canonical(many.raw({ a: Number.NaN, b: 'x' })));
    expect(many.canonical(many.raw({ a: Number.NaN, b: 'x' }))).not.toBe(many.canonical(many.raw({ a: null, b: 'x' })));
    expect(many.canonical(many.raw({ b: 'x' }))).toBe(many.canonical(many.raw({ a: null, b: 'x' })));
    expect(many.raw({ a: -0, b: 'x' })).toEqual([0, 'x']);
    expect(Object.is((many.raw({ a: -0, b: 'x' }) as unknown[])[0], 0)).toBe(true);
    expect(many.canonical([new Date(5), 'x'])).not.toBe(many.canonical([new Date(5).toISOString(), 'x']));
    expect(many.canonical([{ p: 1, q: 2 }, 'x'])).toBe(many.canonical([{ q: 2, p: 1 }, 'x']));
    const one = compileKey<Record<string, unknown>>('op', 'a');
    expect(Object.is(one.raw({ a: -0 }), 0)).toBe(true);
    expect(one.canonical(new Date(5))).toBe(one.canonical(new Date(5)));
    expect(one.canonical({ p: 1, q: [Number.NaN] })).toBe(one.canonical({ q: [Number.NaN], p: 1 }));
    expect(one.canonical({ p: Number.NaN })).not.toBe(one.canonical({ p: null }));
    for (const [text, other] of [['\u0000d5', new Date(5)], ['\u0000{"p":1}', { p: 1 }]] as const) expect(one.canonical(text)).not.toBe(one.canonical(other));
    expect(needsCanonical('\u0000x')).toBe(true);
    expect(needsCanonical('x')).toBe(false);
    expect(needsCanonical(Number.NaN)).toBe(false);
  });

  it('writes raw keys to checkpoint JSON and reads them back unchanged: NaN, ±Infinity, Dates, bigints, nested and tag-like objects', () => {
    const keys: unknown[] = [
      'a',
      3,
      null,
      Number.NaN,
      [Number.NaN, 'x', Number.NEGATIVE_INFINITY],
      new Date(7),
      10n,
      { user: 'u', at: new Date(9), score: Number.POSITIVE_INFINITY },
      { $date: 1 },
      [{ $object: { $double: 'x' } }],
      { __proto__: 1 } as never,
    ];
    for (const raw of keys) {
      const back = keyFromJson(JSON.parse(JSON.stringify(keyToJson(raw))) as string);
      expect(back).toEqual(raw);
      expect(keyToJson(back)).toBe(keyToJson(raw));
    }
    expect(keyToJson('a')).toBe('"a"'); // plain JSON keys are written as before
    expect(keyToJson(['a', 1])).toBe('["a",1]');
    expect(decodeKeyValue(encodeKeyValue(Object.defineProperty({}, '__proto__', { value: 1, enumerable: true })))).toHaveProperty('__proto__', 1);
  });

  it('rejects a bad key spec', () => {
    expect(() => compileKey('groupAggregate', 42 as never)).toThrow(
      "groupAggregate: keyBy must be a field name, a list of field names or a function of the row; got 42. Use e.g. 'user', ['user', 'device'] or (row) => row.user.",
    );
    expect(() => compileKey('groupAggregate', [] as never)).toThrow(InvalidOptionError);
  });
});
