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
