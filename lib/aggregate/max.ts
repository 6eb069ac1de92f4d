import { orderInsensitive } from './orderInsensitive.js';
import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';
import { compareValues } from './compareValues.js';

/**
 * The largest value of a field (numbers, strings, `Date`s), ignoring null and
 * undefined; `null` when there was none.
 *
 * Spark: `max(col)`.
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '1 minute', aggregate: { high: max('price') } });
 * // => { window: { start, end }, high: 12.25 }
 * ```
 */
export function max<T = unknown, V = unknown>(field: ValueSpec<T, V>): Aggregator<T, V | null, V | null> {
  const read = valueReader<T>('max', field) as (row: T) => V | null | undefined;
  return orderInsensitive({
    init: () => null,
    add: (acc, row) => {
      const v = read(row);
      if (v === null || v === undefined) return acc;
      return acc === null || compareValues(v, acc) > 0 ? v : acc;
    },
    merge: (a, b) => (a === null ? b : b === null ? a : compareValues(b, a) > 0 ? b : a),
    result: (acc) => acc,
  });
}
