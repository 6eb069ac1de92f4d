import type { Duration as DateFnsDuration } from 'date-fns';

/**
 * A length of time: milliseconds as a number, a string such as `'10 minutes'`,
 * `'5 seconds'`, `'1 hour 30 minutes'`, `'250 ms'`, or a date-fns `Duration`
 * object such as `{ minutes: 10 }`.
 */
export type Duration = number | string | DateFnsDuration;

/** An event time as it may appear in a row. A window `{ start, end }` counts as `end - 1` (Spark's `window_time`). */
export type EventTimeValue = number | Date | string | { readonly start: number; readonly end: number };

/** Where a row's event time is: a field name, or a function of the row. */
export type EventTimeSpec<T> = (keyof T & string) | ((row: T) => EventTimeValue | null | undefined);

/** A grouping key: a field name, a list of field names, or a function of the row. */
export type KeySpec<T> = (keyof T & string) | readonly (keyof T & string)[] | ((row: T) => unknown);

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
