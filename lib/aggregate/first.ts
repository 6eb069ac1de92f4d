import { fieldLabel, readsField, valueReader, type Aggregator, type FieldOf, type RecordFieldOf, type ValueOf, type ValueSpec } from './Aggregator.js';
import { decodeEnds, encodeEnds, type EndsAcc } from './ends.js';
import { isOfKind, kindOf, mixedTypes } from './valueKinds.js';

/**
 * The value of a field in the first row of the group, in arrival order
 * (earlier batches first, then row order within a batch); `null` for an empty
 * group. Null values count, as in Spark's `first(col)` (`ignoreNulls = false`).
 * The result keeps the field's type; values of two types in one group are an
 * `InvalidValueError`. The accumulator is `[]` (no row yet) or
 * `[value, kind of the values seen]`.
 *
 * Spark: `first(col)`.
 *
 * **Types**: inside an operator's `aggregate` option the row type comes
 * from the operator. Elsewhere give it with the field,
 * `first<Row, 'page'>('page')`, or annotate a function,
 * `first((r: Row) => r.page)`. `first<Row>('page')` does not compile, since
 * TypeScript infers no type argument once one is given and the field's type
 * would be lost (a record row type such as `Record<string, number>` excepted).
 *
 * @example
 * ```ts
 * windowSession({ eventTime: 'ts', gap: '30 seconds', keyBy: 'user', aggregate: { entry: first('page') } });
 * // => { window: { start, end }, user: 'u1', entry: '/home' }
 * ```
 *
 * @throws {InvalidValueError} (as an error notification) `first('page'): values of two types in one group: … in batch 3. …`
 */
export function first<T, const F extends FieldOf<T>>(field: F): Aggregator<T, EndsAcc, ValueOf<T, F> | null>;
export function first<T, V>(field: (row: T) => V): Aggregator<T, EndsAcc, Exclude<V, null | undefined> | null>;
/** `first<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function first<T>(field: RecordFieldOf<T, 'first'>): Aggregator<T, EndsAcc, ValueOf<T, string> | null>;
export function first<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>>(field: F): Aggregator<T, EndsAcc, ValueOf<T, F> | null> {
  const read = valueReader<T>('first', field);
  const label = fieldLabel(field);
  return readsField({
    init: () => [],
    add: (acc, row) => {
      const v = read(row);
      if (acc.length === 0) {
        acc.push(v, v === null || v === undefined ? null : kindOf(v));
      } else if (v !== null && v !== undefined) {
        const kind = acc[1];
        if (kind === null || kind === undefined) acc[1] = kindOf(v);
        else if (!isOfKind(v, kind as string)) throw mixedTypes('first', label, acc[0] ?? v, v);
      }
      return acc;
    },
    merge: (a, b) => {
      if (a.length === 0) return b;
      if (b.length === 0) return a;
      const ka = a[1] ?? null;
      const kb = b[1] ?? null;
      if (ka !== null && kb !== null && ka !== kb) throw mixedTypes('first', label, a[0], b[0]);
      return ka !== null || kb === null ? a : [a[0], kb];
    },
    result: (acc) => (acc.length === 0 ? null : ((acc[0] ?? null) as ValueOf<T, F> | null)),
    encode: encodeEnds,
    decode: decodeEnds,
  }, field);
}
