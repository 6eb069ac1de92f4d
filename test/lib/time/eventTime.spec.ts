import fc from 'fast-check';
import { eventTimeReader, invalidEventTime, invalidEventTimePolicy, parseIsoUtc, toEpochMs } from '../../../lib/time/eventTime.js';
import { EventTimeError, InvalidOptionError } from '../../../lib/errors/index.js';

describe('toEpochMs', () => {
  it('reads epoch milliseconds, Dates, ISO strings and windows', () => {
    expect(toEpochMs(1_520_000_000_000)).toBe(1_520_000_000_000);
    expect(toEpochMs(1.9)).toBe(1);
    expect(toEpochMs(-1.5)).toBe(-2);
    expect(toEpochMs(new Date(Date.UTC(2018, 2, 2, 10, 2, 33)))).toBe(Date.UTC(2018, 2, 2, 10, 2, 33));
    expect(toEpochMs('2018-03-02T10:02:33')).toBe(Date.UTC(2018, 2, 2, 10, 2, 33));
    expect(toEpochMs('2018-03-02 10:02:33')).toBe(Date.UTC(2018, 2, 2, 10, 2, 33));
    expect(toEpochMs('2018-03-02T10:02:33.250Z')).toBe(Date.UTC(2018, 2, 2, 10, 2, 33, 250));
    expect(toEpochMs('2018-03-02T10:02:33+01:00')).toBe(Date.UTC(2018, 2, 2, 9, 2, 33));
    expect(toEpochMs('2018-03-02')).toBe(Date.UTC(2018, 2, 2));
    expect(toEpochMs('1969-12-31T23:59:58')).toBe(-2000);
    expect(toEpochMs({ start: 0, end: 10_000 })).toBe(9_999);
  });

  it.each([[undefined], [null], ['yesterday'], ['2018-13-45T99:00:00'], [Number.NaN], [Number.POSITIVE_INFINITY], [{}], [true], [new Date('nope')]])('gives NaN for %p', (value) => {
    expect(toEpochMs(value)).toBeNaN();
  });

  it('round-trips any instant through its ISO string', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }), (ms) => {
        const iso = new Date(ms).toISOString();
        if (iso.startsWith('+') || iso.startsWith('-')) return; // expanded years are not plain ISO-8601 dates
        expect(parseIsoUtc(iso)).toBe(ms);
      }),
    );
  });
});

describe('eventTimeReader', () => {
  it('reads a field or a function of the row', () => {
    const byField = eventTimeReader<{ ts: string }>('op', 'ts');
    expect(byField.field).toBe('ts');
    expect(byField.ms({ ts: '1970-01-01T00:00:01Z' })).toBe(1000);
    const byFn = eventTimeReader<{ s: number }>('op', (r) => r.s * 1000);
    expect(byFn.field).toBe('<function>');
    expect(byFn.isField).toBe(false);
    expect(byFn.ms({ s: 2 })).toBe(2000);
  });

  it('rejects a spec that is neither a field name nor a function', () => {
    expect(() => eventTimeReader('windowTumbling', 42 as never)).toThrow(InvalidOptionError);
    expect(() => eventTimeReader('windowTumbling', 42 as never)).toThrow('windowTumbling: eventTime must be a field name, { field, unit?, format? } or a function of the row; got 42.');
  });

  it('raises an EventTimeError naming the field, the value, the batch and the row, unless told to drop', () => {
    const reader = eventTimeReader<{ ts?: unknown }>('windowTumbling', 'ts');
    expect(() => invalidEventTime('windowTumbling', reader, {}, 3, 7, 'error')).toThrow(
      'windowTumbling: event time ts is missing in batch 3, row 7; got undefined.',
    );
    try {
      invalidEventTime('windowTumbling', reader, { ts: 'soon' }, 3, 7, 'error');
    } catch (e) {
      expect(e).toBeInstanceOf(EventTimeError);
      expect(e).toMatchObject({ operator: 'windowTumbling', field: 'ts', batchId: 3, rowIndex: 7, received: 'soon' });
    }
    expect(() => invalidEventTime('windowTumbling', reader, {}, 3, 7, 'drop')).not.toThrow();
  });

  it('validates the onInvalidEventTime option', () => {
    expect(invalidEventTimePolicy('op', undefined)).toBe('error');
    expect(invalidEventTimePolicy('op', 'drop')).toBe('drop');
    expect(() => invalidEventTimePolicy('op', 'skip')).toThrow("op: onInvalidEventTime must be 'error' or 'drop'; got \"skip\".");
  });
});
