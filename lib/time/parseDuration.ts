import { milliseconds, type Duration as DateFnsDuration } from 'date-fns';
import { InvalidDurationError, describeValue } from '../errors/index.js';
import type { Duration } from '../types.js';

const MS_PER: Readonly<Record<string, number>> = {
  ms: 1, millisecond: 1, milliseconds: 1, msec: 1, msecs: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};
/** Spark counts a month as 31 days and a year as 12 months when it turns a watermark delay into milliseconds. */
const MONTH_MS = 31 * 86_400_000;
const MONTH_UNITS: Readonly<Record<string, number>> = {
  month: MONTH_MS, months: MONTH_MS, mo: MONTH_MS, year: 12 * MONTH_MS, years: 12 * MONTH_MS, y: 12 * MONTH_MS,
};
const PART = /\s*([+-]?\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*/y;
const DATE_FNS_KEYS = new Set(['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds']);

/** Options for {@link parseDuration}. */
export interface ParseDurationOptions {
  /** The operator and option being parsed, used in error messages, e.g. `'windowTumbling: size'`. @defaultValue `'duration'` */
  readonly option?: string;
  /**
   * Accept months and years. Spark accepts them in a watermark delay (a month
   * is 31 days, a year 12 months) but not in window sizes, slides or gaps,
   * whose length must be fixed. @defaultValue `false`
   */
  readonly allowMonths?: boolean;
}

function fail(option: string, input: unknown, rule: string): never {
  throw new InvalidDurationError(
    `${option} ${rule}; got ${describeValue(input)}. Use milliseconds, '10 minutes', '1 hour 30 minutes', or { minutes: 10 }.`,
    option,
    input,
  );
}

function monthsRule(option: string, input: unknown): never {
  // Spark: "Intervals greater than a month is not supported (<input>)." (TimeWindow.getIntervalInMicroSeconds)
  throw new InvalidDurationError(
    `${option} must have a fixed length: intervals greater than a month are not supported; got ${describeValue(input)}. Use days or weeks instead.`,
    option,
    input,
  );
}

/**
 * Turns a {@link Duration} into milliseconds.
 *
 * @example
 * parseDuration('10 minutes');        //=> 600000
 * parseDuration('1 hour 30 min');     //=> 5400000
 * parseDuration({ seconds: 5 });      //=> 5000
 * parseDuration(250);                 //=> 250
 *
 * @throws {InvalidDurationError} `<option> is not a duration; got <input>. …` when the input is not one of the forms above.
 * @throws {InvalidDurationError} `<option> must have a fixed length: intervals greater than a month are not supported; …` when months or years are used without `allowMonths`.
 */
export function parseDuration(input: Duration, options: ParseDurationOptions = {}): number {
  const { option = 'duration', allowMonths = false } = options;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) fail(option, input, 'is not a finite number of milliseconds');
    return input;
  }
  if (typeof input === 'string') return parseDurationString(input, option, allowMonths);
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const keys = Object.keys(input);
    if (keys.length === 0 || keys.some((k) => !DATE_FNS_KEYS.has(k))) fail(option, input, 'is not a duration');
    const d = input as DateFnsDuration;
    for (const k of keys) {
      const v = (d as Record<string, unknown>)[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(option, input, 'is not a duration');
    }
    if ((d.months ?? 0) !== 0 || (d.years ?? 0) !== 0) {
      if (!allowMonths) monthsRule(option, input);
      const { months = 0, years = 0, ...rest } = d;
      return (months + years * 12) * MONTH_MS + milliseconds(rest);
    }
    return milliseconds(d);
  }
  fail(option, input, 'is not a duration');
}

function parseDurationString(input: string, option: string, allowMonths: boolean): number {
  let text = input.trim().toLowerCase();
  if (text.startsWith('interval ')) text = text.slice('interval '.length);
  if (text === '') fail(option, input, 'is not a duration');
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) fail(option, input, 'is not a duration');
    const amount = Number(match[1]);
    const unit = match[2]!;
    const unitMs = MS_PER[unit];
    if (unitMs !== undefined) total += amount * unitMs;
    else if (MONTH_UNITS[unit] !== undefined) {
      if (!allowMonths) monthsRule(option, input);
      total += amount * MONTH_UNITS[unit]!;
    } else fail(option, input, 'is not a duration');
  }
  return Math.round(total);
}

/** Parses a duration that must be strictly positive (window sizes, slides, gaps). */
export function parsePositiveDuration(input: Duration, option: string): number {
  const ms = parseDuration(input, { option });
  if (ms <= 0) {
    throw new InvalidDurationError(
      `${option} must be positive; got ${describeValue(input)} (${ms} ms). Use a duration greater than zero.`,
      option,
      input,
    );
  }
  return ms;
}
