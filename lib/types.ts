import type { Duration as DateFnsDuration } from 'date-fns';

/**
 * A length of time: milliseconds as a number, a string such as `'10 minutes'`,
 * `'5 seconds'`, `'1 hour 30 minutes'`, `'250 ms'`, or a date-fns `Duration`
 * object such as `{ minutes: 10 }`.
 */
export type Duration = number | string | DateFnsDuration;

/** An event time as it may appear in a row. A window `{ start, end }` counts as `end - 1` (Spark's `window_time`). */
export type EventTimeValue = number | Date | string | { readonly start: number; readonly end: number };

/**
 * An event-time column with how to read it:
 * - `unit: 'seconds'` reads numbers (and numeric text) as epoch seconds
 *   (Spark's `timestamp_seconds`); `'ms'` (the default) as epoch milliseconds;
 * - `format` reads text written in a date-fns format (`'dd-MM-yyyy-HH-mm'`),
 *   Spark's `to_timestamp(col, fmt)`; the zone is UTC unless the format has
 *   one (`X`, `x`). Numbers and `Date`s in the column are still read as times.
 */
export interface EventTimeColumn<T> {
  readonly field: FieldName<T>;
  /** @defaultValue `'ms'` */
  readonly unit?: 'ms' | 'seconds';
  readonly format?: string;
}

/**
 * A field name of rows `T`; any string when the row type is not known
 * (`unknown`), as in a fragment `pipe(withWatermark('ts', …), …)` written
 * without a row type argument. The row type is never inferred from a field
 * name (it would be `{ ts: any }`, which no later field name fits): it comes
 * from the source, an earlier operator, a type argument or an annotated
 * function of the row.
 */
export type FieldName<T> = NoInfer<unknown extends T ? string : keyof T & string>;

/** Where a row's event time is: a field name, a field with its unit or format, or a function of the row. */
export type EventTimeSpec<T> = ColumnName<T> | EventTimeColumn<T> | ((row: T) => EventTimeValue | null | undefined);

/**
 * A column of rows of type `T`: a field name, or `<field>.<nested field>` for
 * a field holding an object (e.g. `left.ts` on the `{ left, right }` rows of a
 * join), as Spark names a field of a struct column. Any string when the row
 * type is not known, and never the source of the row type (see {@link FieldName}).
 */
export type ColumnName<T> = NoInfer<unknown extends T ? string : (keyof T & string) | NestedColumnName<T>>;

/** `<field>.<nested field>` for the object-valued fields of `T` (one level). */
export type NestedColumnName<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends readonly unknown[] | Date ? never : NonNullable<T[K]> extends object ? `${K}.${keyof NonNullable<T[K]> & string}` : never;
}[keyof T & string];

/** A grouping key: a field name, a list of field names, or a function of the row. */
export type KeySpec<T> = ColumnName<T> | readonly ColumnName<T>[] | ((row: T) => unknown);

/** What to do with a row whose event time is missing or unparsable. */
export type InvalidEventTimePolicy = 'error' | 'drop';

/** Rows a stateful operator dropped because they were behind the watermark, handed to a late-data side output. */
export interface LateRows<T> {
  /** The operator that dropped them (its stable id). */
  readonly operatorId: string;
  readonly batchId: number;
  /** The late-events watermark the rows were compared with (the previous batch's watermark). */
  readonly watermark: number;
  readonly rows: readonly T[];
}

/** A late-data side output: a callback or an RxJS Observer (a `Subject` works) receiving each batch's late rows. */
export type LateRowsHandler<T> = ((late: LateRows<T>) => void) | { readonly next: (late: LateRows<T>) => void };

declare const NUMERIC_TEXT: unique symbol;

/**
 * Text that holds a number, by declaration: a field typed `NumericString` may
 * be given to `sum` and `avg`, which cast it to a double as Spark casts a
 * string (`'10'` is 10; text that is not a number is `null` and counted). A
 * field typed plain `string` may not: Spark resolves `sum` of a string column
 * by an implicit cast, but here the row type says the text is numeric.
 * CSV rows read without a schema are typed with it (every cell is text whose
 * type is not known). Make one with a cast: `'10' as NumericString`.
 */
export type NumericString = string & { readonly [NUMERIC_TEXT]: 'NumericString' };
