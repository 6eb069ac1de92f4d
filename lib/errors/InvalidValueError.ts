import { StreamingError, describeValue } from './StreamingError.js';

/** The JavaScript type of a value as the error messages name it: `a string`, `a boolean`, `an array`, `a Date`, `an object` … */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  const t = typeof value;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'undefined' : `a ${t}`;
}

/**
 * A value an aggregate cannot take: a boolean, object or array given to
 * `sum`/`avg` (Spark refuses those column types), or values of two different
 * types in one group of `min`/`max`/`first`/`last` (a Spark column has one
 * type). Names the aggregate, the field, the value and the batch.
 */
export class InvalidValueError extends StreamingError {
  override name = 'InvalidValueError';
  /** The aggregate function, e.g. `sum`. */
  readonly aggregate: string;
  /** The field the aggregate reads, or `'<function>'`. */
  readonly field: string;
  /** The offending value. */
  readonly received: unknown;
  /** The batch it was found in (`undefined` only before the operator attached it). */
  readonly batchId: number | undefined;
  /** What is wrong, without the batch: `cannot sum true (a boolean)`. */
  readonly reason: string;
  /** What to do about it. */
  readonly hint: string;

  constructor(aggregate: string, field: string, received: unknown, reason: string, hint: string, batchId?: number) {
    super(`${aggregate}(${describeValue(field)}): ${reason}${batchId === undefined ? '' : ` in batch ${batchId}`}. ${hint}`);
    this.aggregate = aggregate;
    this.field = field;
    this.received = received;
    this.reason = reason;
    this.hint = hint;
    this.batchId = batchId;
  }

  /** The same error, naming the batch it was found in. */
  inBatch(batchId: number): InvalidValueError {
    return new InvalidValueError(this.aggregate, this.field, this.received, this.reason, this.hint, batchId);
  }
}
