import { orderInsensitive } from './orderInsensitive.js';
import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';

/**
 * Sums a numeric field, ignoring null and undefined values; `null` when there
 * was no value to sum (as Spark's `sum`).
 *
 * Spark: `sum(col)`.
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'eventtime', size: '5 minutes', aggregate: { profit: sum('profit') } });
 * // => { window: { start, end }, profit: 28 }
 * ```
 */
export function sum<T = unknown>(field: ValueSpec<T, number | null | undefined>): Aggregator<T, number | null, number | null> {
  const read = valueReader<T>('sum', field);
  if (typeof field === 'string') {
    // A field name: read it inline (no reader call per row).
    return orderInsensitive({
      init: () => null,
      add: (acc, row) => {
        const v = (row as Record<string, unknown>)[field];
        if (v === null || v === undefined) return acc;
        return acc === null ? (v as number) : acc + (v as number);
      },
      merge: (a, b) => (a === null ? b : b === null ? a : a + b),
      result: (acc) => acc,
    });
  }
  return orderInsensitive({
    init: () => null,
    add: (acc, row) => {
      const v = read(row);
      if (v === null || v === undefined) return acc;
      return acc === null ? (v as number) : acc + (v as number);
    },
    merge: (a, b) => (a === null ? b : b === null ? a : a + b),
    result: (acc) => acc,
  });
}
