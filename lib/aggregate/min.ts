import type { Aggregator, FieldOf, RecordFieldOf, ValueOf, ValueSpec } from './Aggregator.js';
import { extremum } from './extremum.js';

/**
 * The smallest value of a field (numbers, strings, `Date`s, booleans, window
 * structs), ignoring null and undefined; `null` when there was none. The
 * result keeps the field's type (`min('price')` on a `number` field is a
 * `number | null`). `NaN` counts as larger than every number, as in Spark, so
 * it is the minimum only of a group that holds nothing else. Values of two
 * types in one group (`'10'` and `5`) are an `InvalidValueError`.
 *
 * Spark: `min(col)`.
 *
 * **Types**: inside an operator's `aggregate` option the row type comes
 * from the operator. Elsewhere give it with the field,
 * `min<Row, 'price'>('price')`, or annotate a function,
 * `min((r: Row) => r.price)`. `min<Row>('price')` does not compile, since
 * TypeScript infers no type argument once one is given and the field's type
 * would be lost (a record row type such as `Record<string, number>` excepted).
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '1 minute', aggregate: { low: min('price') } });
 * // => { window: { start, end }, low: 9.5 }
 * ```
 *
 * @throws {InvalidValueError} (as an error notification) `min('price'): values of two types in one group: … in batch 3. …`
 */
export function min<T, const F extends FieldOf<T>>(field: F): Aggregator<T, unknown, ValueOf<T, F> | null>;
export function min<T, V>(field: (row: T) => V): Aggregator<T, unknown, Exclude<V, null | undefined> | null>;
/** `min<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function min<T>(field: RecordFieldOf<T, 'min'>): Aggregator<T, unknown, ValueOf<T, string> | null>;
export function min<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>>(field: F): Aggregator<T, unknown, ValueOf<T, F> | null> {
  return extremum<T>('min', field) as Aggregator<T, unknown, ValueOf<T, F> | null>;
}
