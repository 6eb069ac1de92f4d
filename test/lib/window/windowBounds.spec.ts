import { floorMod, windowSpec } from '../../../lib/window/WindowBounds.js';
import { tumblingWindowStart } from '../../../lib/window/tumbling.js';
import { lastWindowStart, slidingWindowStarts, windowsOf } from '../../../lib/window/sliding.js';
import { InvalidDurationError, InvalidOptionError } from '../../../lib/errors/index.js';

const S = 1000;
const spec = (sizeMs: number, slideMs = sizeMs, startMs = 0) => ({ sizeMs, slideMs, startMs });

describe('floorMod', () => {
  it('returns a result in [0, m) also for negative inputs', () => {
    expect(floorMod(7, 5)).toBe(2);
    expect(floorMod(-3, 5)).toBe(2);
    expect(floorMod(-5, 5)).toBe(0);
    expect(Object.is(floorMod(-10, 5), 0)).toBe(true);
  });
});

describe('tumblingWindowStart', () => {
  it('puts a timestamp in [start, start + size), an end timestamp in the next window', () => {
    expect(tumblingWindowStart(12 * S, 10 * S, 0)).toBe(10 * S);
    expect(tumblingWindowStart(10 * S, 10 * S, 0)).toBe(10 * S);
    expect(tumblingWindowStart(9_999, 10 * S, 0)).toBe(0);
  });

  it('shifts the grid by startTime; -5 s and +5 s with a 10 s size give the same windows (SPARK-21590)', () => {
    expect(tumblingWindowStart(12 * S, 10 * S, 5 * S)).toBe(5 * S);
    expect(tumblingWindowStart(12 * S, 10 * S, -5 * S)).toBe(5 * S);
    expect(tumblingWindowStart(16 * S, 10 * S, 5 * S)).toBe(15 * S);
  });

  it('gives timestamps before 1970 the window that contains them (SPARK-39347)', () => {
    expect(tumblingWindowStart(-1, 10 * S, 0)).toBe(-10 * S);
    expect(tumblingWindowStart(-10 * S, 10 * S, 0)).toBe(-10 * S);
    // 1969-12-31 00:00:02 with 10 s windows starting at 5 s: [23:59:55, 00:00:05) of the previous day, not [00:00:05, 00:00:15).
    const t = Date.UTC(1969, 11, 31, 0, 0, 2);
    const start = tumblingWindowStart(t, 10 * S, 5 * S);
    expect(start).toBe(Date.UTC(1969, 11, 30, 23, 59, 55));
    expect(start <= t && t < start + 10 * S).toBe(true);
  });
});

describe('slidingWindowStarts', () => {
  it('gives size/slide windows when slide divides size, latest first', () => {
    const out: number[] = [];
    expect(slidingWindowStarts(12 * S, spec(10 * S, 5 * S), out)).toBe(2);
    expect(out.slice(0, 2)).toEqual([10 * S, 5 * S]);
    expect(slidingWindowStarts(12 * S, spec(200, 40), out)).toBe(5);
  });

  it('gives 3 or 4 windows for 10 s windows sliding every 3 s (DataFrameTimeWindowingSuite)', () => {
    const out: number[] = [];
    const counts = new Set<number>();
    for (let t = 0; t < 30 * S; t += 250) {
      const n = slidingWindowStarts(t, spec(10 * S, 3 * S), out);
      counts.add(n);
      for (let i = 0; i < n; i++) expect(out[i]! <= t && t < out[i]! + 10 * S).toBe(true);
    }
    expect([...counts].sort()).toEqual([3, 4]);
  });

  it('lists windows earliest first with windowsOf, including before 1970 and with an offset', () => {
    expect(windowsOf(12 * S, spec(10 * S, 5 * S))).toEqual([{ start: 5 * S, end: 15 * S }, { start: 10 * S, end: 20 * S }]);
    expect(windowsOf(-1, spec(10 * S, 5 * S))).toEqual([{ start: -10 * S, end: 0 }, { start: -5 * S, end: 5 * S }]);
    expect(windowsOf(12 * S, spec(10 * S, 5 * S, 2 * S))).toEqual([{ start: 7 * S, end: 17 * S }, { start: 12 * S, end: 22 * S }]);
    expect(lastWindowStart(-7 * S, 5 * S, 0)).toBe(-10 * S);
  });
});

describe('windowSpec', () => {
  it('parses durations and defaults slide to size and startTime to 0', () => {
    expect(windowSpec('op', { size: '10 minutes' })).toEqual({ sizeMs: 600_000, slideMs: 600_000, startMs: 0 });
    expect(windowSpec('op', { size: { minutes: 10 }, slide: '5 minutes', startTime: -60_000 })).toEqual({ sizeMs: 600_000, slideMs: 300_000, startMs: -60_000 });
  });

  describe('misconfiguration', () => {
    it('rejects a non-positive size or slide', () => {
      expect(() => windowSpec('windowTumbling', { size: 0 })).toThrow(InvalidOptionError);
      expect(() => windowSpec('windowTumbling', { size: 0 })).toThrow('windowTumbling: size must be positive; got 0 (0 ms). Use a duration greater than zero.');
      expect(() => windowSpec('windowSliding', { size: 10, slide: -1 })).toThrow('windowSliding: slide must be positive; got -1 (-1 ms).');
    });

    it('rejects a slide longer than the size', () => {
      expect(() => windowSpec('windowSliding', { size: '10 minutes', slide: '15 minutes' })).toThrow(
        `windowSliding: slide must not exceed size; got slide "15 minutes" (900000 ms), size "10 minutes" (600000 ms). Use windowTumbling for non-overlapping windows.`,
      );
    });

    it('rejects |startTime| >= slide', () => {
      expect(() => windowSpec('windowTumbling', { size: '10 seconds', startTime: '10 seconds' })).toThrow(
        'windowTumbling: startTime must be less than slide in absolute value; got startTime "10 seconds" (10000 ms), slide "10 seconds" (10000 ms).',
      );
      expect(() => windowSpec('windowTumbling', { size: 10_000, startTime: -10_000 })).toThrow(InvalidOptionError);
    });

    it('rejects months and years, whose length is not fixed', () => {
      expect(() => windowSpec('windowTumbling', { size: '1 month' })).toThrow(InvalidDurationError);
      expect(() => windowSpec('windowTumbling', { size: '1 month' })).toThrow('windowTumbling: size must have a fixed length: intervals greater than a month are not supported; got "1 month"');
      expect(() => windowSpec('windowSliding', { size: '400 days', slide: { years: 1 } })).toThrow('windowSliding: slide must have a fixed length');
    });

    it('rejects an unparsable or missing size, quoting it', () => {
      expect(() => windowSpec('windowTumbling', { size: '10 minuts' })).toThrow('windowTumbling: size is not a duration; got "10 minuts"');
      expect(() => windowSpec('windowTumbling', { size: undefined as unknown as number })).toThrow('windowTumbling: size is required; got undefined.');
    });
  });
});
