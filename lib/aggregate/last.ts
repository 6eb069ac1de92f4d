import { fieldLabel, readsField, valueReader, type Aggregator, type FieldOf, type RecordFieldOf, type ValueOf, type ValueSpec } from './Aggregator.js';
import { decodeEnds, encodeEnds, type EndsAcc } from './ends.js';
import { isOfKind, kindOf, mixedTypes } from './valueKinds.js';

/**
 * The value of a field in the last row of the group, in arrival order; `null`
 * for an empty group. Null values count (Spark's `last(col)`,
 * `ignoreNulls = false`). The result keeps the field's type; values of two
 * types in one group are an `InvalidValueError`. The accumulator is `[]` or
 * `[value, kind of the values seen]`.
 *
 * Spark: `last(col)`.
 *
 * **Types**: inside an operator's `aggregate` option the row type comes
 * from the operator. Elsewhere give it with the field,
 * `last<Row, 'page'>('page')`, or annotate a function,
 * `last((r: Row) => r.page)`. `last<Row>('page')` does not compile, since
 * TypeScript infers no type argument once one is given and the field's type
 * would be lost (a record row type such as `Record<string, number>` excepted).
 *
 * @example
 * ```ts
 * windowSession({ eventTime: 'ts', gap: '30 seconds', keyBy: 'user', aggregate: { exit: last('page') } });
 * // => { window: { start, end }, user: 'u1', exit: '/checkout' }
 * ```
 *
 * @throws {InvalidValueError} (as an error notification) `last('page'): values of two types in one group: … in batch 3. …`
 */
export function last<T, const F extends FieldOf<T>>(field: F): Aggregator<T, EndsAcc, ValueOf<T, F> | null>;
export function last<T, V>(field: (row: T) => V): Aggregator<T, EndsAcc, Exclude<V, null | undefined> | null>;
/** `last<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function last<T>(field: RecordFieldOf<T, 'last'>): Aggregator<T, EndsAcc, ValueOf<T, string> | null>;
export function last<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>>(field: F): Aggregator<T, EndsAcc, ValueOf<T, F> | null> {
  const read = valueReader<T>('last', field);
  const label = fieldLabel(field);
  return readsField({
    init: () => [],
    add: (acc, row) => {
      const v = read(row);
      if (acc.length === 0) {
        acc.push(v, v === null || v === undefined ? null : kindOf(v));
        return acc;
      }
      if (v !== null && v !== undefined) {
        const kind = acc[1];
        if (kind === null || kind === undefined) acc[1] = kindOf(v);
        else if (!isOfKind(v, kind as string)) throw mixedTypes('last', label, acc[0] ?? v, v);
      }
      acc[0] = v;
      return acc;
    },
    merge: (a, b) => {
      if (b.length === 0) return a;
      if (a.length === 0) return b;
      const ka = a[1] ?? null;
      const kb = b[1] ?? null;
      if (ka !== null && kb !== null && ka !== kb) throw mixedTypes('last', label, a[0], b[0]);
      return kb !== null || ka === null ? b : [b[0], ka];
    },
    result: (acc) => (acc.length === 0 ? null : ((acc[0] ?? null) as ValueOf<T, F> | null)),
    encode: encodeEnds,
    decode: decodeEnds,
  }, field);
}
