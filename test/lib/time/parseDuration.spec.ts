import { parseDuration, parsePositiveDuration } from '../../../lib/time/parseDuration.js';
import { InvalidDurationError } from '../../../lib/errors/index.js';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['250 milliseconds', 250],
    ['250 ms', 250],
    ['5 seconds', 5_000],
    ['1 second', 1_000],
    ['5s', 5_000],
    ['10 minutes', 600_000],
    ['1 minute', 60_000],
    ['10 min', 600_000],
    ['1 hour', 3_600_000],
    ['2 hours', 7_200_000],
    ['1h', 3_600_000],
    ['2 days', 172_800_000],
    ['1 day', 86_400_000],
    ['1d', 86_400_000],
    ['1 week', 604_800_000],
    ['1 hour 30 minutes', 5_400_000],
    ['interval 10 seconds', 10_000],
    ['  7 SECONDS ', 7_000],
    ['1.5 seconds', 1_500],
    ['-5 seconds', -5_000],
    ['1500', 1_500],
    [{ minutes: 10 }, 600_000],
    [{ hours: 1, minutes: 30 }, 5_400_000],
    [{ days: 7 }, 604_800_000],
  ])('parses %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it('counts a month as 31 days and a year as 12 months when months are allowed, as Spark does for watermark delays', () => {
    expect(parseDuration('1 month', { allowMonths: true })).toBe(31 * 86_400_000);
    expect(parseDuration({ years: 1 }, { allowMonths: true })).toBe(12 * 31 * 86_400_000);
  });

  it.each([['10 minuts'], [''], ['minutes'], ['10'.repeat(0)], [Number.NaN], [Number.POSITIVE_INFINITY], [{}], [{ fortnights: 1 }], [{ minutes: '10' }], [null], [[10]], [true]])(
    'rejects %j with an InvalidDurationError quoting the input',
    (input) => {
      let error: unknown;
      try {
        parseDuration(input as never, { option: 'windowTumbling: size' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidDurationError);
      expect((error as InvalidDurationError).input).toBe(input);
      expect((error as Error).message).toMatch(/^windowTumbling: size (is not a duration|is not a finite number of milliseconds); got /);
    },
  );

  it('quotes the bad string exactly', () => {
    expect(() => parseDuration('10 minuts', { option: 'withWatermark: delay' })).toThrow(
      'withWatermark: delay is not a duration; got "10 minuts". Use milliseconds, \'10 minutes\', \'1 hour 30 minutes\', or { minutes: 10 }.',
    );
  });

  it('rejects months in fixed-length durations with Spark-like wording', () => {
    expect(() => parseDuration('1 month', { option: 'windowTumbling: size' })).toThrow(
      'windowTumbling: size must have a fixed length: intervals greater than a month are not supported; got "1 month". Use days or weeks instead.',
    );
    expect(() => parseDuration({ months: 2 })).toThrow(InvalidDurationError);
  });

  it('parsePositiveDuration rejects zero and negative lengths', () => {
    expect(parsePositiveDuration('1 minute', 'size')).toBe(60_000);
    expect(() => parsePositiveDuration(0, 'windowSliding: slide')).toThrow('windowSliding: slide must be positive; got 0 (0 ms).');
    expect(() => parsePositiveDuration('-1 s', 'windowSession: gap')).toThrow(InvalidDurationError);
  });
});
