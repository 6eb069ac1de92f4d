import { canonicalValue } from './groupKey.js';
import { decodeValue, encodeValue, kindOf, mixedTypes } from './valueKinds.js';
import { fieldLabel, readsField, valueReader, type Aggregator, type FieldOf, type RecordFieldOf, type ValueOf, type ValueSpec } from './Aggregator.js';

/**
 * The distinct values of a group: each value under the stand-in it is
 * compared by (see {@link canonicalValue}), in order of first arrival.
 */
export type DistinctValues<V> = Map<unknown, V>;

/**
 * The distinct non-null values of a field, in order of first arrival.
 * Values are compared by value, as Spark compares them: numbers and strings
 * as themselves (`NaN` equals `NaN`, `-0` equals `0` and is kept as `0`), `Date`s by their time,
 * arrays and objects (structs) by their contents, whatever the order of an
 * object's keys. The first of equal values is the one kept. Values of two
 * kinds in one group (a number and a string, say) are an `InvalidValueError`,
 * as for `min` and `max`: a column has one type.
 *
 * Spark: `collect_set(col)`.
 *
 * **State**: one entry per distinct value of the group (checkpointed as an array).
 *
 * **Types**: inside an operator's `aggregate` option the row type comes
 * from the operator. Elsewhere give it with the field,
 * `collectSet<Row, 'id'>('id')`, or annotate a function,
 * `collectSet((r: Row) => r.id)`. `collectSet<Row>('id')` does not compile, since
 * TypeScript infers no type argument once one is given and the field's type
 * would be lost (a record row type such as `Record<string, number>` excepted).
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { ids: collectSet('id') } });
 * // => { window: { start, end }, action: 'close', ids: ['phone1', 'phone3'] }
 * ```
 */
export function collectSet<T, const F extends FieldOf<T>>(field: F): Aggregator<T, DistinctValues<ValueOf<T, F>>, ValueOf<T, F>[]>;
export function collectSet<T, V>(field: (row: T) => V): Aggregator<T, DistinctValues<Exclude<V, null | undefined>>, Exclude<V, null | undefined>[]>;
/** `collectSet<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function collectSet<T>(field: RecordFieldOf<T, 'collectSet'>): Aggregator<T, DistinctValues<ValueOf<T, string>>, ValueOf<T, string>[]>;
export function collectSet<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>, V = ValueOf<T, F>>(field: F): Aggregator<T, DistinctValues<V>, V[]> {
  return distinctValues('collectSet', field, (acc) => [...acc.values()]);
}

/**
 * The aggregator over the distinct non-null values of a field (compared by
 * value, see {@link collectSet}), checkpointed as an array of the values;
 * `result` turns the distinct values into the output. Shared by
 * {@link collectSet} and `countDistinct`.
 */
export function distinctValues<T, V, R>(fn: string, field: ValueSpec<T>, result: (acc: DistinctValues<V>) => R): Aggregator<T, DistinctValues<V>, R> {
  const read = valueReader<T>(fn, field) as (row: T) => V | null | undefined;
  const label = fieldLabel(field);
  // A column has one type (as in Spark): a value of another kind than the group's first is refused
  // when it would be added (1 and '1' would otherwise be two distinct values, and count twice).
  const checkKind = (acc: DistinctValues<V>, v: unknown): void => {
    if (acc.size === 0) return;
    const first = acc.values().next().value;
    if (kindOf(first) !== kindOf(v)) throw mixedTypes(fn, label, first, v);
  };
  return readsField({
    init: () => new Map<unknown, V>(),
    add: (acc, row) => {
      const v = read(row);
      if (v === null || v === undefined) return acc;
      const k = canonicalValue(v);
      if (!acc.has(k)) {
        checkKind(acc, v);
        acc.set(k, (v === 0 ? 0 : v) as V);
      }
      return acc;
    },
    merge: (a, b) => {
      if (b.size === 0) return a;
      if (a.size === 0) return b;
      checkKind(a, b.values().next().value);
      const out = new Map(a);
      for (const [k, v] of b) if (!out.has(k)) out.set(k, v);
      return out;
    },
    result,
    encode: (acc) => Array.from(acc.values(), encodeValue),
    decode: (json) => {
      const acc = new Map<unknown, V>();
      for (const item of json as unknown[]) {
        const v = decodeValue(item) as V;
        const k = canonicalValue(v);
        if (!acc.has(k)) acc.set(k, v);
      }
      return acc;
    },
  }, field);
}
