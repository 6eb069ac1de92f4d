import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';

/**
 * The number of distinct non-null values of a field (SameValueZero equality).
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
export function countDistinct<T = unknown, V = unknown>(field: ValueSpec<T, V>): Aggregator<T, Set<V>, number> {
  const read = valueReader<T>('countDistinct', field) as (row: T) => V | null | undefined;
  return {
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
    result: (acc) => acc.size,
    encode: (acc) => [...acc],
    decode: (json) => new Set(json as V[]),
  };
}
