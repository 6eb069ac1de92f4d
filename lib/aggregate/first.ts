import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';

/**
 * The value of a field in the first row of the group, in arrival order
 * (earlier batches first, then row order within a batch); `null` for an empty
 * group. Null values count, as in Spark's `first(col)` (`ignoreNulls = false`).
 * The accumulator is `[]` (no row yet) or `[value]`.
 *
 * Spark: `first(col)`.
 *
 * @example
 * ```ts
 * windowSession({ eventTime: 'ts', gap: '30 seconds', keyBy: 'user', aggregate: { entry: first('page') } });
 * // => { window: { start, end }, user: 'u1', entry: '/home' }
 * ```
 */
export function first<T = unknown, V = unknown>(field: ValueSpec<T, V>): Aggregator<T, V[], V | null> {
  const read = valueReader<T>('first', field) as (row: T) => V;
  return {
    init: () => [],
    add: (acc, row) => {
      if (acc.length === 0) acc.push(read(row));
      return acc;
    },
    merge: (a, b) => (a.length > 0 ? a : b),
    result: (acc) => (acc.length === 0 ? null : (acc[0] ?? null)),
  };
}
