import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';

/**
 * The value of a field in the last row of the group, in arrival order; `null`
 * for an empty group. Null values count (Spark's `last(col)`,
 * `ignoreNulls = false`). The accumulator is `[]` or `[value]`.
 *
 * Spark: `last(col)`.
 *
 * @example
 * ```ts
 * windowSession({ eventTime: 'ts', gap: '30 seconds', keyBy: 'user', aggregate: { exit: last('page') } });
 * // => { window: { start, end }, user: 'u1', exit: '/checkout' }
 * ```
 */
export function last<T = unknown, V = unknown>(field: ValueSpec<T, V>): Aggregator<T, V[], V | null> {
  const read = valueReader<T>('last', field) as (row: T) => V;
  return {
    init: () => [],
    add: (acc, row) => {
      acc[0] = read(row);
      return acc;
    },
    merge: (a, b) => (b.length > 0 ? b : a),
    result: (acc) => (acc.length === 0 ? null : (acc[0] ?? null)),
  };
}
