import { orderInsensitive } from './orderInsensitive.js';
import { columnAccumulator } from './columnKinds.js';
import { isInheritedName } from '../internal/columns.js';
import { fieldLabel, readsField, valueReader, type Aggregator } from './Aggregator.js';
import { compareValues } from './compareValues.js';
import { decodeValue, encodeValue, kindOf, mixedTypes } from './valueKinds.js';

/**
 * The shared body of `min` (`sign` -1) and `max` (`sign` 1): keeps the
 * smallest or largest non-null value in Spark's order ({@link compareValues}:
 * `NaN` above every number), with the input's own type. Values of two kinds
 * in one group are an `InvalidValueError`. Numbers and strings compare
 * inline; other kinds go through `compareValues`.
 */
export function extremum<T>(fn: 'min' | 'max', field: unknown): Aggregator<T, unknown, unknown> {
  const read = valueReader<T>(fn, field);
  const label = fieldLabel(field);
  const better =
    fn === 'min'
      ? (v: unknown, acc: unknown): boolean => {
          if (typeof v === 'number' && typeof acc === 'number') return v < acc || (acc !== acc && v === v);
          if (typeof v === 'string' && typeof acc === 'string') return v < acc;
          if (kindOf(v) !== kindOf(acc)) throw mixedTypes(fn, label, acc, v);
          return compareValues(v, acc) < 0;
        }
      : (v: unknown, acc: unknown): boolean => {
          if (typeof v === 'number' && typeof acc === 'number') return v > acc || (v !== v && acc === acc);
          if (typeof v === 'string' && typeof acc === 'string') return v > acc;
          if (kindOf(v) !== kindOf(acc)) throw mixedTypes(fn, label, acc, v);
          return compareValues(v, acc) > 0;
        };
  return columnAccumulator(orderInsensitive(readsField({
    init: () => null,
    add: (acc, row) => {
      const v = read(row);
      if (v === null || v === undefined) return acc;
      return acc === null || better(v, acc) ? v : acc;
    },
    merge: (a, b) => (a === null ? b : b === null ? a : better(b, a) ? b : a),
    result: (acc) => acc,
    encode: encodeValue,
    decode: decodeValue,
  }, field)), { kind: fn, field: typeof field === 'string' && !isInheritedName(field) && !field.includes('.') ? field : undefined });
}
