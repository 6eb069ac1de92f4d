import { EventTimeError, InvalidOptionError, describeValue } from '../errors/index.js';
import type { EventTimeSpec, InvalidEventTimePolicy } from '../types.js';

const ISO = /^\d{4,}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * Converts an event-time value to epoch milliseconds, or `NaN` when it is not
 * a time. Numbers are epoch milliseconds; `Date`s their time; strings must be
 * ISO-8601 (`2018-03-02T10:02:33`, with `T` or a space, optional fraction and
 * zone; a string without a zone is read as UTC, like Spark with a UTC session
 * time zone); a window `{ start, end }` counts as `end - 1` (Spark's
 * `window_time`).
 */
export function toEpochMs(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : Number.NaN;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return parseIsoUtc(value);
  if (typeof value === 'object' && value !== null) {
    const end = (value as { end?: unknown }).end;
    if (typeof end === 'number' && typeof (value as { start?: unknown }).start === 'number') return end - 1;
  }
  return Number.NaN;
}

/** Parses an ISO-8601 timestamp, reading a zone-less one as UTC. `NaN` when it is not one. */
export function parseIsoUtc(text: string): number {
  const s = text.trim();
  if (!ISO.test(s)) return Number.NaN;
  let iso = s.length > 10 && s[10] === ' ' ? `${s.slice(0, 10)}T${s.slice(11)}` : s;
  if (iso.length > 10 && !HAS_ZONE.test(iso)) iso += 'Z';
  return Date.parse(iso);
}

/** Reads the event time of rows for one operator. */
export interface EventTimeReader<T> {
  /** The field name, or `'<function>'`. Used in error messages and to track the watermarked column. */
  readonly field: string;
  /** `true` when `field` is a field name (not a function), so the column can be tracked by name. */
  readonly isField: boolean;
  /** The raw value in the row (for error messages). */
  raw(row: T): unknown;
  /** Epoch milliseconds, or `NaN` when the value is missing or not a time. */
  ms(row: T): number;
}

/**
 * Builds an {@link EventTimeReader} for an event-time spec (a field name or a function of the row).
 *
 * @throws {InvalidOptionError} when the spec is neither a non-empty string nor a function.
 */
export function eventTimeReader<T>(operator: string, spec: EventTimeSpec<T>, option = 'eventTime'): EventTimeReader<T> {
  if (typeof spec === 'function') {
    const fn = spec;
    return { field: '<function>', isField: false, raw: (row) => fn(row), ms: (row) => toEpochMs(fn(row)) };
  }
  if (typeof spec !== 'string' || spec.length === 0) {
    throw new InvalidOptionError(
      `${operator}: ${option} must be a field name or a function of the row; got ${describeValue(spec)}.`,
      option,
      spec,
      'a field name or a function',
    );
  }
  const field = spec;
  return {
    field,
    isField: true,
    raw: (row) => (row as Record<string, unknown>)[field],
    ms: (row) => toEpochMs((row as Record<string, unknown>)[field]),
  };
}

/**
 * Handles a row whose event time is `NaN`: throws an {@link EventTimeError}
 * naming the field, value, batch and row, unless `policy` is `'drop'`, in
 * which case it returns and the caller drops and counts the row.
 */
export function invalidEventTime<T>(
  operator: string,
  reader: EventTimeReader<T>,
  row: T,
  batchId: number,
  rowIndex: number,
  policy: InvalidEventTimePolicy,
): void {
  if (policy === 'drop') return;
  throw new EventTimeError(operator, reader.field, batchId, rowIndex, reader.raw(row));
}

/** Validates an `onInvalidEventTime` option. */
export function invalidEventTimePolicy(operator: string, policy: unknown): InvalidEventTimePolicy {
  if (policy === undefined) return 'error';
  if (policy === 'error' || policy === 'drop') return policy;
  throw new InvalidOptionError(
    `${operator}: onInvalidEventTime must be 'error' or 'drop'; got ${describeValue(policy)}.`,
    'onInvalidEventTime',
    policy,
    "'error' | 'drop'",
  );
}
