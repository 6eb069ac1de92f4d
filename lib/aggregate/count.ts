import { orderInsensitive } from './orderInsensitive.js';
import { columnAccumulator } from './columnKinds.js';
import { inlineAdd, readsField, valueReader, type Aggregator, type ValueSpec } from './Aggregator.js';

/**
 * Counts rows (`count()`), or the rows whose `field` is not null or undefined (`count(field)`).
 *
 * Spark: `count(*)` / `count(col)`.
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count() } });
 * // => { window: { start, end }, action: 'open', count: 3 }
 * ```
 */
export function count<T = unknown>(field?: ValueSpec<T>): Aggregator<T, number, number> {
  if (field === undefined) {
    return columnAccumulator(orderInsensitive(inlineAdd({ init: () => 0, add: (acc: number) => acc + 1, merge: (a: number, b: number) => a + b, result: (acc: number) => acc }, { kind: 'count' })), { kind: 'count' });
  }
  const read = valueReader<T>('count', field);
  return columnAccumulator(orderInsensitive(readsField({
    init: () => 0,
    add: (acc, row) => {
      const v = read(row);
      return v === null || v === undefined ? acc : acc + 1;
    },
    merge: (a, b) => a + b,
    result: (acc) => acc,
  }, field)), { kind: 'number' });
}
