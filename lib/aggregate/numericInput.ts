import { InvalidOptionError, InvalidValueError, describeType, describeValue } from '../errors/index.js';
import type { ValueCounts } from './Aggregator.js';
import { castToDouble } from './castToDouble.js';

/**
 * Turns a value that is not a number into the number `sum`/`avg` add, or
 * `undefined` when the value contributes nothing (as Spark's null):
 * - `null`/`undefined`: nothing, not counted (a SQL null);
 * - a string: cast as Spark casts a string to double ({@link castToDouble});
 *   text that is not a number is nothing and counted in `counts.invalid`;
 * - a bigint: its value as a double when a double holds it exactly
 *   (within ±(2^53 - 1)); beyond, an {@link InvalidValueError} (or, with `policy`
 *   `'drop'`, nothing and counted), never a silently rounded number;
 * - anything else (boolean, object, array, Date): an {@link InvalidValueError},
 *   or with `policy` `'drop'` nothing and counted.
 *
 * Numbers never come here: the aggregators test `typeof v === 'number'` first.
 */
export function numericInput(aggregate: string, field: string, policy: 'error' | 'drop', counts: ValueCounts): (v: unknown) => number | undefined {
  return (v) => {
    if (v === null || v === undefined) return undefined;
    if (typeof v === 'string') {
      const n = castToDouble(v);
      if (n === null) {
        counts.invalid++;
        return undefined;
      }
      return n;
    }
    if (typeof v === 'number') return v;
    const exactBigint = typeof v === 'bigint' && v <= MAX_EXACT && v >= -MAX_EXACT;
    if (exactBigint) return Number(v);
    if (policy === 'drop') {
      counts.invalid++;
      return undefined;
    }
    if (typeof v === 'bigint') {
      throw new InvalidValueError(
        aggregate,
        field,
        v,
        `cannot ${aggregate === 'sum' ? 'sum' : 'average'} ${describeValue(v)} (${describeType(v)}): beyond ±(2^53 - 1) a double cannot hold every integer exactly`,
        `${aggregate} adds doubles; convert such values yourself (to text for an exact sum elsewhere, or to a number if rounding is acceptable), or pass { onInvalidValue: 'drop' } to drop and count them (numRowsInvalidValue).`,
      );
    }
    throw new InvalidValueError(
      aggregate,
      field,
      v,
      `cannot ${aggregate === 'sum' ? 'sum' : 'average'} ${describeValue(v)} (${describeType(v)})`,
      `${aggregate} takes numbers and numeric text, as Spark's ${aggregate} requires a numeric column; convert the field first, or pass { onInvalidValue: 'drop' } to drop and count such values (numRowsInvalidValue).`,
    );
  };
}

/** The largest integer a double holds exactly, as a bigint (2^53 - 1 = `Number.MAX_SAFE_INTEGER`). */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Validates the `onInvalidValue` option of `sum`/`avg`. */
export function invalidValuePolicy(aggregate: string, options: { readonly onInvalidValue?: unknown } | undefined): 'error' | 'drop' {
  const policy = options?.onInvalidValue;
  if (policy === undefined || policy === 'error') return 'error';
  if (policy === 'drop') return 'drop';
  throw new InvalidOptionError(`${aggregate}: onInvalidValue must be 'error' or 'drop'; got ${describeValue(policy)}.`, 'onInvalidValue', policy, "'error' | 'drop'");
}

/** A JSON-safe form of a double for checkpoints: `NaN`, `±Infinity` and `-0` as strings (JSON has no such numbers; `-0` would read back as `0`). */
export function encodeDouble(v: number | null): number | string | null {
  if (v === null) return v;
  if (Object.is(v, -0)) return '-0';
  return Number.isFinite(v) ? v : String(v);
}

/** Reads {@link encodeDouble}'s output back. */
export function decodeDouble(json: unknown): number | null {
  if (typeof json === 'number') return json;
  if (typeof json === 'string') return Number(json);
  return null;
}
