import { orderInsensitive } from './orderInsensitive.js';
import { columnAccumulator } from './columnKinds.js';
import { fieldLabel, readsField, valueReader, VALUE_COUNTS, type Aggregator, type NumericAggregateOptions, type NumericFieldOf, type NumericValue, type ValueCounts } from './Aggregator.js';
import { isInheritedName } from '../internal/columns.js';
import { decodeDouble, encodeDouble, invalidValuePolicy, numericInput } from './numericInput.js';

const init = (): [number, number] => [0, 0];
const merge = (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]];
const result = (acc: [number, number]): number | null => (acc[1] === 0 ? null : acc[0] / acc[1]);
const encode = (acc: [number, number]): unknown => [encodeDouble(acc[0]), acc[1]];
const decode = (json: unknown): [number, number] => {
  const [s, n] = json as [unknown, number];
  return [decodeDouble(s) ?? 0, n];
};

/**
 * The mean of a numeric field, ignoring null and undefined values; `null`
 * when there was none. The accumulator is `[sum, count]`.
 *
 * Values follow Spark's types exactly as for {@link sum}: numeric text is cast
 * to a double, text that is not a number is `null` (not counted in the mean)
 * and counted in `numRowsInvalidValue`, `NaN` makes the mean `NaN`, and a
 * boolean, object or array is an `InvalidValueError` unless
 * `{ onInvalidValue: 'drop' }`. A field typed `string` or `boolean` does not
 * compile.
 *
 * Spark: `avg(col)`.
 *
 * @example
 * ```ts
 * groupAggregate({ keyBy: 'user', aggregate: { mean: avg('amount') } });
 * // => { user: 'Sankar', mean: 250 }
 * ```
 *
 * @throws {InvalidOptionError} `avg: onInvalidValue must be 'error' or 'drop'; got …`
 * @throws {InvalidValueError} (as an error notification) `avg('flag'): cannot average true (a boolean) in batch 3. …`
 */
export function avg<T = unknown>(field: NumericFieldOf<T> | ((row: T) => NumericValue), options?: NumericAggregateOptions): Aggregator<T, [number, number], number | null> {
  const read = valueReader<T>('avg', field);
  const counts: ValueCounts = { invalid: 0 };
  const toNumber = numericInput('avg', fieldLabel(field), invalidValuePolicy('avg', options), counts);
  // A plain field name is read inline (no reader call per row); names Object.prototype has go through the own-property reader.
  const inline = typeof field === 'string' && !isInheritedName(field) ? field : undefined;
  if (inline !== undefined) {
    return columnAccumulator(orderInsensitive(readsField({
      init,
      add: (acc, row) => {
        let v = (row as Record<string, unknown>)[inline];
        if (typeof v !== 'number') {
          v = toNumber(v);
          if (v === undefined) return acc;
        }
        acc[0] += v as number;
        acc[1] += 1;
        return acc;
      },
      merge,
      result,
      encode,
      decode,
      [VALUE_COUNTS]: counts,
    }, field)), { kind: 'avg', field: inline }) as Aggregator<T, [number, number], number | null>;
  }
  return columnAccumulator(orderInsensitive(readsField({
    init,
    add: (acc, row) => {
      let v = read(row);
      if (typeof v !== 'number') {
        v = toNumber(v);
        if (v === undefined) return acc;
      }
      acc[0] += v as number;
      acc[1] += 1;
      return acc;
    },
    merge,
    result,
    encode,
    decode,
    [VALUE_COUNTS]: counts,
  }, field)), { kind: 'avg', field: undefined }) as Aggregator<T, [number, number], number | null>;
}
