import { orderInsensitive } from './orderInsensitive.js';
import { columnAccumulator } from './columnKinds.js';
import { fieldLabel, inlineAdd, readsField, valueReader, VALUE_COUNTS, type Aggregator, type NumericAggregateOptions, type NumericFieldOf, type NumericValue, type ValueCounts } from './Aggregator.js';
import { isInheritedName } from '../internal/columns.js';
import { decodeDouble, encodeDouble, invalidValuePolicy, numericInput } from './numericInput.js';

/**
 * Sums a numeric field, ignoring null and undefined values; `null` when there
 * was no value to sum (as Spark's `sum`).
 *
 * Values follow Spark's types: numeric text is cast as Spark casts a string
 * to double (`'10'` is 10, `' 2.5 '` is 2.5, `'1e3'` is 1000); text that is not
 * a number (`'abc'`, `''`) is `null`, like Spark's cast, and counted in the
 * operator's `numRowsInvalidValue` metric; `NaN` makes the sum `NaN` and
 * `±Infinity` add as doubles do. A boolean, object or array is an
 * `InvalidValueError` naming the aggregate, field, value and batch (or, with
 * `{ onInvalidValue: 'drop' }`, dropped and counted). At compile time the
 * field must be typed as numbers (or `NumericString`, or `unknown`): a field
 * typed `string` or `boolean` is refused.
 *
 * Spark: `sum(col)`.
 *
 * @example
 * ```ts
 * windowTumbling({ eventTime: 'eventtime', size: '5 minutes', aggregate: { profit: sum('profit') } });
 * // => { window: { start, end }, profit: 28 }
 * ```
 *
 * @throws {InvalidOptionError} `sum: onInvalidValue must be 'error' or 'drop'; got …`
 * @throws {InvalidValueError} (as an error notification) `sum('flag'): cannot sum true (a boolean) in batch 3. …`
 */
export function sum<T = unknown>(field: NumericFieldOf<T> | ((row: T) => NumericValue), options?: NumericAggregateOptions): Aggregator<T, number | null, number | null> {
  const read = valueReader<T>('sum', field);
  const counts: ValueCounts = { invalid: 0 };
  const toNumber = numericInput('sum', fieldLabel(field), invalidValuePolicy('sum', options), counts);
  // A plain field name is read inline (no reader call per row); names Object.prototype has go through the own-property reader.
  const inline = typeof field === 'string' && !isInheritedName(field) ? field : undefined;
  if (inline !== undefined) {
    return columnAccumulator(orderInsensitive(inlineAdd(readsField({
      init: () => null,
      add: (acc: number | null, row: T) => {
        let v = (row as Record<string, unknown>)[inline];
        if (typeof v !== 'number') {
          v = toNumber(v);
          if (v === undefined) return acc;
        }
        return acc === null ? (v as number) : acc + (v as number);
      },
      merge: (a, b) => (a === null ? b : b === null ? a : a + b),
      result: (acc) => acc,
      encode: encodeDouble,
      decode: decodeDouble,
      [VALUE_COUNTS]: counts,
    }, field), { kind: 'sum', field: inline })), { kind: 'sum', field: inline }) as Aggregator<T, number | null, number | null>;
  }
  return columnAccumulator(orderInsensitive(readsField({
    init: () => null,
    add: (acc, row) => {
      let v = read(row);
      if (typeof v !== 'number') {
        v = toNumber(v);
        if (v === undefined) return acc;
      }
      return acc === null ? (v as number) : acc + (v as number);
    },
    merge: (a, b) => (a === null ? b : b === null ? a : a + b),
    result: (acc) => acc,
    encode: encodeDouble,
    decode: decodeDouble,
    [VALUE_COUNTS]: counts,
  }, field)), { kind: 'sum', field: undefined }) as Aggregator<T, number | null, number | null>;
}
