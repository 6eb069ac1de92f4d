import { format as formatDate, parse } from 'date-fns';
import { InvalidOptionError, describeValue } from '../errors/index.js';

/**
 * A `Date` whose calendar fields are UTC's: the local getters and setters
 * date-fns's `parse` uses (`getHours`, `setFullYear`, …) read and write UTC,
 * so a format without a zone is read as UTC whatever the process's time zone
 * is (and no daylight-saving gap can shift it).
 */
class UtcDate extends Date {
  override getFullYear(): number { return this.getUTCFullYear(); }
  override getMonth(): number { return this.getUTCMonth(); }
  override getDate(): number { return this.getUTCDate(); }
  override getDay(): number { return this.getUTCDay(); }
  override getHours(): number { return this.getUTCHours(); }
  override getMinutes(): number { return this.getUTCMinutes(); }
  override getSeconds(): number { return this.getUTCSeconds(); }
  override getMilliseconds(): number { return this.getUTCMilliseconds(); }
  override getTimezoneOffset(): number { return 0; }
  override setFullYear(...args: [number, number?, number?]): number { return this.setUTCFullYear(...(args as [number])); }
  override setMonth(...args: [number, number?]): number { return this.setUTCMonth(...(args as [number])); }
  override setDate(date: number): number { return this.setUTCDate(date); }
  override setHours(...args: [number, number?, number?, number?]): number { return this.setUTCHours(...(args as [number])); }
  override setMinutes(...args: [number, number?, number?]): number { return this.setUTCMinutes(...(args as [number])); }
  override setSeconds(...args: [number, number?]): number { return this.setUTCSeconds(...(args as [number])); }
  override setMilliseconds(ms: number): number { return this.setUTCMilliseconds(ms); }
}

const inUtc = (value: Date | number | string): UtcDate => new UtcDate(value instanceof Date ? value.getTime() : value);
const EPOCH = new UtcDate(0);

/**
 * Builds a parser of timestamps written in a date-fns format
 * (`'dd-MM-yyyy-HH-mm'`, `'yyyy-MM-dd HH:mm:ss.SSS'`, `"yyyy-MM-dd'T'HH:mmXXX"`),
 * Spark's `to_timestamp(col, fmt)`: the result is epoch milliseconds, or
 * `NaN` when the text does not match. Fields the format leaves out default
 * to 1970-01-01 00:00:00.000; the zone is UTC unless the format has one
 * (`X`, `x`, or a timestamp token `t`/`T`). Leading and trailing whitespace
 * is ignored. The last text parsed is cached (rows of one batch often share
 * a time).
 *
 * @throws {InvalidOptionError} `<option> must be a date-fns format; got …` when date-fns refuses the format.
 */
export function timestampParser(format: string, option: string): (text: string) => number {
  if (typeof format !== 'string' || format.length === 0) {
    throw new InvalidOptionError(`${option} must be a non-empty date-fns format such as 'yyyy-MM-dd HH:mm:ss'; got ${describeValue(format)}.`, option, format, 'a date-fns format');
  }
  try {
    formatDate(EPOCH, format);
  } catch (error) {
    throw new InvalidOptionError(
      `${option} must be a date-fns format such as 'yyyy-MM-dd HH:mm:ss'; got ${describeValue(format)} (${(error as Error).message}).`,
      option,
      format,
      'a date-fns format',
    );
  }
  let lastText: string | undefined;
  let lastMs = Number.NaN;
  return (text) => {
    if (text === lastText) return lastMs;
    const d = parse(text.trim(), format, EPOCH, { in: inUtc });
    lastText = text;
    lastMs = d.getTime();
    return lastMs;
  };
}
