import { orderInsensitive } from './orderInsensitive.js';
import { valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';

// Shared by both forms of avg: only how `add` reads the value differs.
const init = (): [number, number] => [0, 0];
const merge = (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]];
const result = (acc: [number, number]): number | null => (acc[1] === 0 ? null : acc[0] / acc[1]);

/**
 * The mean of a numeric field, ignoring null and undefined values; `null`
 * when there was none. The accumulator is `[sum, count]`.
 *
 * Spark: `avg(col)`.
 *
 * @example
 * ```ts
 * groupAggregate({ keyBy: 'user', aggregate: { mean: avg('amount') } });
 * // => { user: 'Sankar', mean: 250 }
 * ```
 */
export function avg<T = unknown>(field: ValueSpec<T, number | null | undefined>): Aggregator<T, [number, number], number | null> {
  const read = valueReader<T>('avg', field);
  if (typeof field === 'string') {
    // A field name: read it inline (no reader call per row).
    return orderInsensitive({
      init,
      add: (acc, row) => {
        const v = (row as Record<string, unknown>)[field];
        if (v === null || v === undefined) return acc;
        acc[0] += v as number;
        acc[1] += 1;
        return acc;
      },
      merge,
      result,
    });
  }
  return orderInsensitive({
    init,
    add: (acc, row) => {
      const v = read(row);
      if (v === null || v === undefined) return acc;
      acc[0] += v as number;
      acc[1] += 1;
      return acc;
    },
    merge,
    result,
  });
}
