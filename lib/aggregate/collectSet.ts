import { decodeValue, encodeValue } from './valueKinds.js';
import { readsField, valueReader, type Aggregator, type FieldOf, type RecordFieldOf, type ValueOf, type ValueSpec } from './Aggregator.js';

/**
 * The distinct non-null values of a field, in order of first arrival.
 * Values are compared with SameValueZero (`Set` semantics): primitives and
 * `Date`s by identity of the object, so use primitive values.
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
export function collectSet<T, const F extends FieldOf<T>>(field: F): Aggregator<T, Set<ValueOf<T, F>>, ValueOf<T, F>[]>;
export function collectSet<T, V>(field: (row: T) => V): Aggregator<T, Set<Exclude<V, null | undefined>>, Exclude<V, null | undefined>[]>;
/** `collectSet<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function collectSet<T>(field: RecordFieldOf<T, 'collectSet'>): Aggregator<T, Set<ValueOf<T, string>>, ValueOf<T, string>[]>;
export function collectSet<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>, V = ValueOf<T, F>>(field: F): Aggregator<T, Set<V>, V[]> {
  return distinctValues('collectSet', field, (acc) => [...acc]);
}

/**
 * The aggregator over the set of distinct non-null values of a field
 * (SameValueZero equality), checkpointed as an array; `result` turns the set
 * into the output. Shared by {@link collectSet} and `countDistinct`.
 */
export function distinctValues<T, V, R>(fn: string, field: ValueSpec<T>, result: (acc: Set<V>) => R): Aggregator<T, Set<V>, R> {
  const read = valueReader<T>(fn, field) as (row: T) => V | null | undefined;
  return readsField({
    init: () => new Set<V>(),
    add: (acc, row) => {
      const v = read(row);
      if (v !== null && v !== undefined) acc.add(v);
      return acc;
    },
    merge: (a, b) => {
      if (b.size === 0) return a;
      if (a.size === 0) return b;
      const out = new Set(a);
      for (const v of b) out.add(v);
      return out;
    },
    result,
    encode: (acc) => Array.from(acc, encodeValue),
    decode: (json) => new Set((json as unknown[]).map(decodeValue) as V[]),
  }, field);
}
