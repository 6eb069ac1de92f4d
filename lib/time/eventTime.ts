import { castToDouble } from '../aggregate/castToDouble.js';
import { EventTimeError, InvalidOptionError, describeValue } from '../errors/index.js';
import { columnReader, isInheritedName } from '../internal/columns.js';
import type { EventTimeColumn, EventTimeSpec, InvalidEventTimePolicy } from '../types.js';
import { timestampParser } from './parseTimestamp.js';

/**
 * The largest event time, in absolute value, that is a time at all: the range
 * of a JavaScript `Date` (±100,000,000 days around the epoch). Beyond it a
 * number is not a time, and is refused where event times enter (it could
 * never be shown, written as a watermark or compared with one).
 */
export const MAX_EVENT_TIME_MS = 8.64e15;

const ISO = /^\d{4,}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * Converts an event-time value to epoch milliseconds, or `NaN` when it is not
 * a time. Numbers are epoch milliseconds (finite, at most
 * `8.64e15` ms, the range of a `Date`, from the epoch); `Date`s their time; strings must be
 * ISO-8601 (`2018-03-02T10:02:33`, with `T` or a space, optional fraction and
 * zone; a string without a zone is read as UTC, like Spark with a UTC session
 * time zone); a window `{ start, end }` counts as `end - 1` (Spark's
 * `window_time`).
 */
export function toEpochMs(value: unknown): number {
  if (typeof value === 'number') return value <= MAX_EVENT_TIME_MS && value >= -MAX_EVENT_TIME_MS ? Math.floor(value) : Number.NaN;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return parseIsoUtc(value);
  if (typeof value === 'object' && value !== null) {
    const end = (value as { end?: unknown }).end;
    if (typeof end === 'number' && typeof (value as { start?: unknown }).start === 'number') return end <= MAX_EVENT_TIME_MS && end >= -MAX_EVENT_TIME_MS ? end - 1 : Number.NaN;
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
  /**
   * What a watermark marker carries to read the time when reading the column
   * by name is not enough: the user's function, or for a column with a unit
   * or format a converter (one function per distinct column spec, so two
   * operators naming the same spec recognise each other's marker).
   */
  readonly markerRead?: (row: never) => unknown;
  /** The operator and option that named the column (for messages). */
  readonly operator?: string;
  readonly option?: string;
}

/** One converter per distinct `{ field, unit, format }`, so that markers compare by identity. */
const converters = new Map<string, (row: unknown) => number>();
/** The spec each converter was made for. */
const converterSpecs = new WeakMap<(row: never) => unknown, EventTimeColumn<Record<string, unknown>>>();

/**
 * The column a watermark marker (or any `{ field, read }` pair) names: its
 * `field` when it reads the column as it is (no `read`) or through the
 * converter of a `{ field, unit?, format? }` spec for that column; `undefined`
 * when the time is computed by a function. A formatted or unit-scaled column
 * is thereby a named column downstream (key checks, deduplication and
 * aggregation by the event-time column, join eviction) like a plain one.
 */
export function markerColumn(marker: { readonly field: string | undefined; readonly read?: ((row: never) => unknown) | undefined }): string | undefined {
  if (marker.read === undefined) return marker.field;
  const field = converterSpecs.get(marker.read)?.field;
  // A `{ field, read }` pair may leave the name out when `read` is a converter, which knows it.
  return field !== undefined && (marker.field === undefined || marker.field === field) ? field : undefined;
}

/**
 * The converter reading column `field` with the unit and format of converter
 * `read` (for the other side of a join whose key is a formatted watermarked
 * column), or `undefined` when `read` is not a converter.
 */
export function sameConversion(read: (row: never) => unknown, field: string): ((row: unknown) => number) | undefined {
  const spec = converterSpecs.get(read);
  if (spec === undefined) return undefined;
  return spec.field === field ? (read as (row: unknown) => number) : columnConverter('streamJoin', 'on', { ...spec, field } as EventTimeColumn<unknown>);
}

function columnConverter(operator: string, option: string, spec: EventTimeColumn<unknown>): (row: unknown) => number {
  const { field, unit, format } = spec;
  const id = JSON.stringify([field, unit ?? 'ms', format ?? null]);
  const known = converters.get(id);
  if (known !== undefined) return known;
  const read = columnReader(field);
  const scale = unit === 'seconds' ? 1000 : 1;
  const parseText = format === undefined ? undefined : timestampParser(format, `${operator}: ${option}.format`);
  const fromNumber = (n: number): number => {
    const ms = n * scale;
    return ms <= MAX_EVENT_TIME_MS && ms >= -MAX_EVENT_TIME_MS ? Math.floor(ms) : Number.NaN;
  };
  const convert = (row: unknown): number => {
    const v = read(row);
    if (typeof v === 'number') return fromNumber(v);
    if (typeof v === 'string') {
      if (parseText !== undefined) return parseText(v);
      if (unit !== undefined) {
        const n = castToDouble(v);
        if (n !== null) return fromNumber(n);
      }
    }
    return toEpochMs(v);
  };
  converters.set(id, convert);
  converterSpecs.set(convert as (row: never) => unknown, { field, ...(unit === undefined ? {} : { unit }), ...(format === undefined ? {} : { format }) });
  return convert;
}

/** `true` for an object event-time spec `{ field, unit?, format? }`. */
export function isEventTimeColumn(spec: unknown): spec is EventTimeColumn<unknown> {
  return typeof spec === 'object' && spec !== null && !Array.isArray(spec);
}

/**
 * Builds an {@link EventTimeReader} for an event-time spec: a field name, a
 * field with its unit or format (`{ field, unit?, format? }`), or a function
 * of the row.
 *
 * @throws {InvalidOptionError} when the spec is none of those, or its unit or format is invalid.
 */
export function eventTimeReader<T>(operator: string, spec: EventTimeSpec<T>, option = 'eventTime'): EventTimeReader<T> {
  if (typeof spec === 'function') {
    const fn = spec;
    return { field: '<function>', isField: false, raw: (row) => fn(row), ms: (row) => toEpochMs(fn(row)), markerRead: fn as (row: never) => unknown };
  }
  if (isEventTimeColumn(spec)) {
    const { field, unit, format } = spec as EventTimeColumn<unknown>;
    if (typeof field !== 'string' || (field as string).length === 0) {
      throw new InvalidOptionError(`${operator}: ${option}.field must be a field name; got ${describeValue(field)}.`, `${option}.field`, field, 'a field name');
    }
    if (unit !== undefined && unit !== 'ms' && unit !== 'seconds') {
      throw new InvalidOptionError(`${operator}: ${option}.unit must be 'ms' or 'seconds'; got ${describeValue(unit)}.`, `${option}.unit`, unit, "'ms' | 'seconds'");
    }
    if ((unit === undefined || unit === 'ms') && format === undefined) return eventTimeReader<T>(operator, field as EventTimeSpec<T>, option);
    const convert = columnConverter(operator, option, spec as EventTimeColumn<unknown>);
    const read = columnReader(field);
    return { field, isField: true, raw: read as (row: T) => unknown, ms: convert as (row: T) => number, markerRead: convert as (row: never) => unknown, operator, option };
  }
  if (typeof spec !== 'string' || spec.length === 0) {
    throw new InvalidOptionError(
      `${operator}: ${option} must be a field name, { field, unit?, format? } or a function of the row; got ${describeValue(spec)}.`,
      option,
      spec,
      'a field name, { field, unit?, format? } or a function',
    );
  }
  const field = spec;
  const read = columnReader(field);
  // A plain own field holding a number (the common case) is read and converted inline: one call per row.
  const plain = !isInheritedName(field) && !(field.indexOf('.') > 0 && field.indexOf('.') < field.length - 1);
  return {
    field,
    isField: true,
    raw: read as (row: T) => unknown,
    ms: plain
      ? (row) => {
          const v = (row as Record<string, unknown>)[field];
          return typeof v === 'number' && v <= MAX_EVENT_TIME_MS && v >= -MAX_EVENT_TIME_MS ? Math.floor(v) : toEpochMs(v);
        }
      : (row) => toEpochMs(read(row)),
    operator,
    option,
  };
}

/** How a column is read, for messages: its unit or format, or the default. */
function readingOf(read: ((row: never) => unknown) | undefined): string {
  const spec = read === undefined ? undefined : converterSpecs.get(read);
  if (spec === undefined) return 'as epoch milliseconds, a Date or ISO-8601 text';
  if (spec.format !== undefined) return `with format ${JSON.stringify(spec.format)}`;
  return `in ${spec.unit ?? 'ms'}`;
}

/**
 * Refuses an event-time spec that names a watermarked column but reads it
 * otherwise than its `withWatermark` does (`'ts'` against `{ field: 'ts',
 * unit: 'seconds' }`, or another format): the operator's times and the
 * watermark would then disagree, by a factor of 1000 or worse, without a
 * word. `column` is the watermarked column (its name and, for a unit or
 * format, its converter).
 *
 * @throws {InvalidOptionError} `<operator>: <option> reads column 'ts' as epoch milliseconds, …, but the watermark reads it in seconds; …`
 */
export function checkSameReading(reader: EventTimeReader<unknown>, column: { readonly field: string | undefined; readonly read?: ((row: never) => unknown) | undefined }): void {
  if (!reader.isField || markerColumn(column) !== reader.field) return;
  const mine = reader.markerRead;
  const theirs = column.read;
  if (mine === theirs) return;
  const operator = reader.operator ?? 'eventTime';
  const option = reader.option ?? 'eventTime';
  throw new InvalidOptionError(
    `${operator}: ${option} reads column '${reader.field}' ${readingOf(mine)}, but its withWatermark reads it ${readingOf(theirs)}. Give both the same spec, e.g. ${option}: ${describeSpec(reader.field, theirs)}.`,
    option,
    reader.field,
    'the spec given to withWatermark',
  );
}

function describeSpec(field: string, read: ((row: never) => unknown) | undefined): string {
  const spec = read === undefined ? undefined : converterSpecs.get(read);
  if (spec === undefined) return JSON.stringify(field);
  return `{ field: ${JSON.stringify(field)}${spec.unit === undefined ? '' : `, unit: ${JSON.stringify(spec.unit)}`}${spec.format === undefined ? '' : `, format: ${JSON.stringify(spec.format)}`} }`;
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
  const raw = reader.raw(row);
  throw new EventTimeError(operator, reader.field, batchId, rowIndex, raw, { hint: `${whatIsATime(reader, raw)}, or pass onInvalidEventTime: 'drop' to drop and count such rows.` });
}

/**
 * What the reader takes as a time, for the message of a value it refused:
 * the column's format or unit when it has one, and why a number is refused
 * when it is one (beyond the `Date` range, or not finite).
 */
function whatIsATime<T>(reader: EventTimeReader<T>, raw: unknown): string {
  const spec = reader.markerRead === undefined ? undefined : converterSpecs.get(reader.markerRead);
  const expected =
    spec?.format !== undefined
      ? `Write it in the format ${JSON.stringify(spec.format)} (read as UTC unless the format has a zone), or as epoch milliseconds`
      : spec?.unit === 'seconds'
        ? 'Use epoch seconds (a number or numeric text), a Date or an ISO-8601 string'
        : 'Use epoch milliseconds, a Date or an ISO-8601 string';
  if (typeof raw === 'number' && raw === raw) {
    return `${expected}; a time is a finite number no further than ${MAX_EVENT_TIME_MS} ms (the Date range) from the epoch`;
  }
  return expected;
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
