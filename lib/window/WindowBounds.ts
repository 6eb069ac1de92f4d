import { InvalidOptionError, describeValue } from '../errors/index.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';

/**
 * A time window `[start, end)` in epoch milliseconds: `start` inclusive, `end`
 * exclusive. The value of the `window` column of windowed rows and results.
 */
export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

/** A validated window grid: windows `[startMs + k*slideMs, startMs + k*slideMs + sizeMs)` for every integer `k`. */
export interface WindowSpec {
  readonly sizeMs: number;
  readonly slideMs: number;
  /** The grid offset (Spark's `startTime`), `|startMs| < slideMs`. */
  readonly startMs: number;
}

/** The window options shared by `assignWindows`, `windowTumbling` and `windowSliding`. */
export interface WindowSpecOptions {
  readonly size: Duration;
  readonly slide?: Duration;
  readonly startTime?: Duration;
}

/** Floor modulo: the result has the sign of `m` (in `[0, m)` for `m > 0`), also for negative `a`. */
export function floorMod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r === 0 ? 0 : r;
}

function describeMs(input: Duration, ms: number): string {
  return `${describeValue(input)} (${ms} ms)`;
}

function parseWindowDuration(op: string, option: string, input: Duration): number {
  return parseDuration(input, { option: `${op}: ${option}` });
}

/**
 * Validates window options as Spark's `TimeWindow` does: `size > 0`,
 * `0 < slide <= size`, `|startTime| < slide`, and no month or year units
 * (their length is not fixed).
 *
 * @throws {InvalidDurationError} `<op>: <option> is not a duration; got …` for an unparsable duration.
 * @throws {InvalidDurationError} `<op>: <option> must have a fixed length: intervals greater than a month are not supported; got …` for months or years.
 * @throws {InvalidOptionError} `<op>: size must be positive; got …` (also `slide`).
 * @throws {InvalidOptionError} `<op>: slide must not exceed size; got slide …, size …. Use windowTumbling for non-overlapping windows.`
 * @throws {InvalidOptionError} `<op>: startTime must be less than slide in absolute value; got startTime …, slide …. Use an offset between -slide and slide.`
 */
export function windowSpec(op: string, options: WindowSpecOptions): WindowSpec {
  const { size, slide = size, startTime = 0 } = options;
  if (size === undefined || size === null) {
    throw new InvalidOptionError(`${op}: size is required; got ${describeValue(size)}. Pass a duration such as '10 minutes'.`, 'size', size, 'a duration');
  }
  const sizeMs = parseWindowDuration(op, 'size', size);
  const slideMs = parseWindowDuration(op, 'slide', slide);
  const startMs = parseWindowDuration(op, 'startTime', startTime);
  if (!(sizeMs > 0)) {
    throw new InvalidOptionError(`${op}: size must be positive; got ${describeMs(size, sizeMs)}. Use a duration greater than zero.`, 'size', size, 'a positive duration');
  }
  if (!(slideMs > 0)) {
    throw new InvalidOptionError(`${op}: slide must be positive; got ${describeMs(slide, slideMs)}. Use a duration greater than zero.`, 'slide', slide, 'a positive duration');
  }
  if (slideMs > sizeMs) {
    throw new InvalidOptionError(
      `${op}: slide must not exceed size; got slide ${describeMs(slide, slideMs)}, size ${describeMs(size, sizeMs)}. Use windowTumbling for non-overlapping windows.`,
      'slide',
      slide,
      'a duration no longer than size',
    );
  }
  if (Math.abs(startMs) >= slideMs) {
    throw new InvalidOptionError(
      `${op}: startTime must be less than slide in absolute value; got startTime ${describeMs(startTime, startMs)}, slide ${describeMs(slide, slideMs)}. Use an offset between -slide and slide.`,
      'startTime',
      startTime,
      'a duration with |startTime| < slide',
    );
  }
  return { sizeMs, slideMs, startMs };
}
