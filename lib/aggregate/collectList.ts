import { decodeValue, encodeValue } from './valueKinds.js';
import { readsField, valueReader, type Aggregator, type FieldOf, type RecordFieldOf, type ValueOf, type ValueSpec } from './Aggregator.js';

/**
 * Every non-null value of a field, in arrival order (earlier batches first).
 *
 * Spark: `collect_list(col)` (which also skips nulls).
 *
 * **State**: the list itself, so it grows with the group.
 *
 * **Types**: inside an operator's `aggregate` option the row type comes
 * from the operator. Elsewhere give it with the field,
 * `collectList<Row, 'id'>('id')`, or annotate a function,
 * `collectList((r: Row) => r.id)`. `collectList<Row>('id')` does not compile, since
 * TypeScript infers no type argument once one is given and the field's type
 * would be lost (a record row type such as `Record<string, number>` excepted).
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { ids: collectList('id') } });
 * // => { window: { start, end }, action: 'open', ids: ['phone1', 'phone2', 'phone3'] }
 * ```
 */
export function collectList<T, const F extends FieldOf<T>>(field: F): Aggregator<T, ValueOf<T, F>[], ValueOf<T, F>[]>;
export function collectList<T, V>(field: (row: T) => V): Aggregator<T, Exclude<V, null | undefined>[], Exclude<V, null | undefined>[]>;
/** `collectList<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function collectList<T>(field: RecordFieldOf<T, 'collectList'>): Aggregator<T, ValueOf<T, string>[], ValueOf<T, string>[]>;
export function collectList<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>, V = ValueOf<T, F>>(field: F): Aggregator<T, V[], V[]> {
  const read = valueReader<T>('collectList', field) as (row: T) => V | null | undefined;
  return readsField({
    init: () => [],
    add: (acc, row) => {
      const v = read(row);
      if (v !== null && v !== undefined) acc.push(v);
      return acc;
    },
    merge: (a, b) => (b.length === 0 ? a : a.length === 0 ? b : a.concat(b)),
    result: (acc) => acc.slice(),
    encode: (acc) => acc.map(encodeValue),
    decode: (json) => (json as unknown[]).map(decodeValue) as V[],
  }, field);
}
