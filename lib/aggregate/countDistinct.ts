import { orderInsensitive } from './orderInsensitive.js';
import type { Aggregator, ValueSpec } from './Aggregator.js';
import { distinctValues, type DistinctValues } from './collectSet.js';

/**
 * The number of distinct non-null values of a field, compared by value as
 * `collectSet` compares them (`Date`s by time, arrays and objects by contents).
 *
 * Spark: `count(DISTINCT col)` — which Spark **rejects** on streaming
 * DataFrames ("Distinct aggregations are not supported on streaming
 * DataFrames/Datasets. Consider using approx_count_distinct() instead.")
 * because its state is unbounded per group. This library provides it exactly:
 * it keeps the set of distinct values of each group in the state, so its cost
 * grows with the number of distinct values; bound it with windows and a
 * watermark.
 *
 * **State**: one entry per distinct value of the group.
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '1 hour', aggregate: { users: countDistinct('user') } });
 * // => { window: { start, end }, users: 42 }
 * ```
 */
export function countDistinct<T = unknown, V = unknown>(field: ValueSpec<T, V>): Aggregator<T, DistinctValues<V>, number> {
  return orderInsensitive(distinctValues('countDistinct', field, (acc) => acc.size));
}
