import { orderInsensitive } from './orderInsensitive.js';
import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';
import { compareValues } from './compareValues.js';

/**
 * The smallest value of a field (numbers, strings, `Date`s), ignoring null
 * and undefined; `null` when there was none.
 *
 * Spark: `min(col)`.
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '1 minute', aggregate: { low: min('price') } });
 * // => { window: { start, end }, low: 9.5 }
 * ```
 */
export function min<T = unknown, V = unknown>(field: ValueSpec<T, V>): Aggregator<T, V | null, V | null> {
  const read = valueReader<T>('min', field) as (row: T) => V | null | undefined;
  return orderInsensitive({
    init: () => null,
    add: (acc, row) => {
      const v = read(row);
      if (v === null || v === undefined) return acc;
      return acc === null || compareValues(v, acc) < 0 ? v : acc;
    },
    merge: (a, b) => (a === null ? b : b === null ? a : compareValues(b, a) < 0 ? b : a),
    result: (acc) => acc,
  });
}
