import type { Aggregator, FieldOf, RecordFieldOf, ValueOf, ValueSpec } from './Aggregator.js';
import { extremum } from './extremum.js';

/**
 * The largest value of a field (numbers, strings, `Date`s, booleans, window
 * structs), ignoring null and undefined; `null` when there was none. The
 * result keeps the field's type. `NaN` counts as larger than every number, as
 * in Spark: a group holding a `NaN` has maximum `NaN`. Values of two types in
 * one group are an `InvalidValueError`.
 *
 * Spark: `max(col)`.
 *
 * **Types**: inside an operator's `aggregate` option the row type comes
 * from the operator. Elsewhere give it with the field,
 * `max<Row, 'price'>('price')`, or annotate a function,
 * `max((r: Row) => r.price)`. `max<Row>('price')` does not compile, since
 * TypeScript infers no type argument once one is given and the field's type
 * would be lost (a record row type such as `Record<string, number>` excepted).
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '1 minute', aggregate: { high: max('price') } });
 * // => { window: { start, end }, high: 12.25 }
 * ```
 *
 * @throws {InvalidValueError} (as an error notification) `max('price'): values of two types in one group: … in batch 3. …`
 */
export function max<T, const F extends FieldOf<T>>(field: F): Aggregator<T, unknown, ValueOf<T, F> | null>;
export function max<T, V>(field: (row: T) => V): Aggregator<T, unknown, Exclude<V, null | undefined> | null>;
/** `max<Row>(field)`: for a record row type only (`Record<string, V>`); refused for others, whose field type it would lose (see {@link RecordFieldOf}). */
export function max<T>(field: RecordFieldOf<T, 'max'>): Aggregator<T, unknown, ValueOf<T, string> | null>;
export function max<T = unknown, const F extends ValueSpec<T> = ValueSpec<T>>(field: F): Aggregator<T, unknown, ValueOf<T, F> | null> {
  return extremum<T>('max', field) as Aggregator<T, unknown, ValueOf<T, F> | null>;
}
