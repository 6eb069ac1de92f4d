import { pipe } from 'rxjs';
import { withWatermark } from '../../../operators/withWatermark.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { assignWindows } from '../../../operators/assignWindows.js';
import { outputMode } from '../../../operators/outputMode.js';
import { count } from '../../../lib/aggregate/count.js';
import { EventTimeError, InvalidOptionError } from '../../../lib/errors/index.js';
import { MAX_EVENT_TIME_MS, eventTimeReader, markerColumn, sameConversion, toEpochMs } from '../../../lib/time/eventTime.js';
import { runBatches } from '../../../lib/testing/index.js';
import { fromBatches } from '../../../lib/batch/fromBatches.js';
import { streamJoin } from '../../../operators/streamJoin.js';

type Row = Record<string, unknown>;

describe('event times are checked at the door', () => {
  it.each([[9e15], [-9e15], [Infinity], [-Infinity], [Number.NaN], [Number.MAX_VALUE]])('%p is not a time', (v) => {
    expect(toEpochMs(v)).toBeNaN();
    expect(toEpochMs({ start: 0, end: v })).toBeNaN();
  });

  it('the Date range itself is a time, one more millisecond is not', () => {
    expect(toEpochMs(MAX_EVENT_TIME_MS)).toBe(8.64e15);
    expect(toEpochMs(-MAX_EVENT_TIME_MS)).toBe(-8.64e15);
    expect(toEpochMs(MAX_EVENT_TIME_MS + 1)).toBeNaN();
  });

  it('an event time of 9e15 is an EventTimeError in withWatermark, before it can become the watermark', () => {
    const run = () => runBatches(withWatermark<Row>('ts', '1 second'), [[{ ts: 1000 }], [{ ts: 9e15 }]]);
    expect(run).toThrow(EventTimeError);
    expect(run).toThrow('withWatermark: event time ts is not a valid time in batch 1, row 0; got 9000000000000000.');
  });

  it("with onInvalidEventTime: 'drop' the row is dropped and counted, and the watermark stays a time", () => {
    const steps = runBatches(withWatermark<Row>('ts', '1 second', { onInvalidEventTime: 'drop' }), [[{ ts: 5000 }], [{ ts: 9e15 }, { ts: 7000 }], [{ ts: Infinity }]]);
    expect(steps.map((s) => s.watermark)).toEqual([4000, 6000, 6000]);
    expect(steps.map((s) => s.rows.length)).toEqual([1, 1, 0]);
    expect(steps.map((s) => s.metrics?.numRowsDroppedInvalidEventTime ?? 0)).toEqual([0, 1, 1]);
    for (const s of steps) expect(() => new Date(s.watermark).toISOString()).not.toThrow();
  });

  it('windows refuse it too (no withWatermark upstream)', () => {
    expect(() => runBatches(windowTumbling<Row>()({ eventTime: 'ts', size: 10, aggregate: { n: count() } }), [[{ ts: 9e15 }]])).toThrow(EventTimeError);
    const steps = runBatches(windowTumbling<Row>()({ eventTime: 'ts', size: 10, aggregate: { n: count() }, onInvalidEventTime: 'drop' }), [[{ ts: 9e15 }, { ts: 1 }]]);
    expect(steps[0]!.metrics?.numRowsDroppedInvalidEventTime).toBe(1);
  });
});

describe('event-time specs { field, unit?, format? }', () => {
  it("unit: 'seconds' reads epoch seconds (numbers and numeric text)", () => {
    const r = eventTimeReader<Row>('op', { field: 'ts', unit: 'seconds' });
    expect(r.ms({ ts: 1520000000 })).toBe(1520000000000);
    expect(r.ms({ ts: '1520000000.5' })).toBe(1520000000500);
    expect(r.ms({ ts: '2018-03-02T10:00:00Z' })).toBe(Date.UTC(2018, 2, 2, 10));
    expect(r.ms({ ts: 9e12 })).toBeNaN(); // 9e15 ms: beyond the Date range
    expect(r.field).toBe('ts');
  });

  it('format parses with date-fns, in UTC unless the format has a zone', () => {
    const r = eventTimeReader<Row>('op', { field: 'ts', format: 'dd-MM-yyyy-HH-mm' });
    expect(r.ms({ ts: '02-03-2018-10-15' })).toBe(Date.UTC(2018, 2, 2, 10, 15));
    expect(r.ms({ ts: ' 02-03-2018-10-15 ' })).toBe(Date.UTC(2018, 2, 2, 10, 15));
    expect(r.ms({ ts: '2018-03-02 10:15' })).toBeNaN();
    expect(r.ms({ ts: 5 })).toBe(5); // numbers are still epoch ms
    const zoned = eventTimeReader<Row>('op', { field: 'ts', format: "yyyy-MM-dd'T'HH:mmXXX" });
    expect(zoned.ms({ ts: '2018-03-02T10:15+02:00' })).toBe(Date.UTC(2018, 2, 2, 8, 15));
  });

  it('an EventTimeError says what the column takes: its format or unit, and the Date range for a number', () => {
    const formatted = { field: 'time', format: 'dd-MM-yyyy-HH-mm' } as const;
    expect(() => runBatches(withWatermark<Row>(formatted, '10 minutes'), [[{ time: '2020-04-20 10:10' }]])).toThrow(
      `withWatermark: event time time is not a valid time in batch 0, row 0; got "2020-04-20 10:10". Write it in the format "dd-MM-yyyy-HH-mm" (read as UTC unless the format has a zone), or as epoch milliseconds, or pass onInvalidEventTime: 'drop' to drop and count such rows.`,
    );
    expect(() => runBatches(windowTumbling<Row>()({ eventTime: { field: 'ts', unit: 'seconds' }, size: 10, aggregate: { n: count() } }), [[{ ts: 'soon' }]])).toThrow(
      "windowTumbling: event time ts is not a valid time in batch 0, row 0; got \"soon\". Use epoch seconds (a number or numeric text), a Date or an ISO-8601 string, or pass onInvalidEventTime: 'drop' to drop and count such rows.",
    );
    expect(() => runBatches(withWatermark<Row>('ts', '1 second'), [[{ ts: 9e15 }]])).toThrow(
      "withWatermark: event time ts is not a valid time in batch 0, row 0; got 9000000000000000. Use epoch milliseconds, a Date or an ISO-8601 string; a time is a finite number no further than 8640000000000000 ms (the Date range) from the epoch, or pass onInvalidEventTime: 'drop' to drop and count such rows.",
    );
  });

  it('a plain { field } is the field name', () => {
    const r = eventTimeReader<Row>('op', { field: 'ts' });
    expect(r.markerRead).toBeUndefined();
    expect(r.ms({ ts: '2018-03-02T10:00:00' })).toBe(Date.UTC(2018, 2, 2, 10));
  });

  it('runs a watermark and a window on a formatted column, the window recognising the watermarked column', () => {
    const ts = { field: 'ts', format: 'dd-MM-yyyy-HH-mm' } as const;
    const steps = runBatches(
      pipe(withWatermark<Row>(ts, '10 minutes'), windowTumbling<Row>()({ eventTime: ts, size: '5 minutes', aggregate: { n: count() } }), outputMode('append')),
      [[{ ts: '02-03-2018-10-01' }, { ts: '02-03-2018-10-03' }], [{ ts: '02-03-2018-10-30' }], [{ ts: '02-03-2018-10-02' }]],
    );
    const t = (m: number) => Date.UTC(2018, 2, 2, 10, m);
    expect(steps.map((s) => s.watermark)).toEqual([t(-7), t(20), t(20)]);
    expect(steps[1]!.rows).toEqual([{ window: { start: t(0), end: t(5) }, n: 2 }]);
    expect(steps[2]!.metrics?.stateOperators?.[0]?.numRowsDroppedByWatermark).toBe(1);
    const windows = runBatches(pipe(withWatermark<Row>(ts, 0), assignWindows<Row>({ eventTime: ts, size: '5 minutes' })), [[{ ts: '02-03-2018-10-01' }]]);
    expect((windows[0]!.rows[0] as { window: unknown }).window).toEqual({ start: t(0), end: t(5) });
  });

  it('a column with a format or unit is a named column: markerColumn gives its name, a function spec has none', () => {
    const formatted = eventTimeReader<Row>('op', { field: 'ts', format: 'dd-MM-yyyy-HH-mm' });
    expect(formatted.isField).toBe(true);
    expect(markerColumn({ field: 'ts', read: formatted.markerRead })).toBe('ts');
    expect(markerColumn({ field: undefined, read: formatted.markerRead })).toBe('ts');
    expect(markerColumn({ field: 'other', read: formatted.markerRead })).toBeUndefined();
    expect(markerColumn({ field: 'ts', read: eventTimeReader<Row>('op', { field: 'ts', unit: 'seconds' }).markerRead })).toBe('ts');
    expect(markerColumn({ field: 'ts' })).toBe('ts');
    const fn = eventTimeReader<Row>('op', (r) => r['ts'] as number);
    expect(markerColumn({ field: fn.field, read: fn.markerRead })).toBeUndefined();
    // The same conversion for another column (the other side of a join keyed by the formatted column).
    const other = sameConversion(formatted.markerRead!, 'at')!;
    expect(other({ at: '02-03-2018-10-15' })).toBe(Date.UTC(2018, 2, 2, 10, 15));
    expect(sameConversion(formatted.markerRead!, 'ts')).toBe(formatted.markerRead);
    expect(sameConversion(fn.markerRead!, 'ts')).toBeUndefined();
  });

  it('refuses a window or join time naming the watermarked column but reading it otherwise (a unit or format on one side only)', () => {
    const failure = (run: () => void): unknown => {
      try {
        run();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const errorOf = (o: { subscribe: (x: { error: (e: unknown) => void }) => unknown }): unknown => {
      let error: unknown;
      o.subscribe({ error: (e: unknown) => (error = e) });
      return error;
    };
    const seconds = { field: 'ts', unit: 'seconds' } as const;
    // Thrown when the pipeline is built (the watermark is known then), like Spark's analysis errors.
    const window = failure(() =>
      fromBatches<Row>([[{ ts: 100 }]]).pipe(withWatermark<Row>(seconds, '10 seconds'), windowTumbling<Row>()({ eventTime: 'ts', size: '10 seconds', aggregate: { n: count() } }), outputMode('append')),
    );
    expect(window).toBeInstanceOf(InvalidOptionError);
    expect((window as Error).message).toBe(
      "windowTumbling: eventTime reads column 'ts' as epoch milliseconds, a Date or ISO-8601 text, but its withWatermark reads it in seconds. Give both the same spec, e.g. eventTime: { field: \"ts\", unit: \"seconds\" }.",
    );
    // The same spec on both is the same column.
    const same = runBatches(pipe(withWatermark<Row>(seconds, '10 seconds'), windowTumbling<Row>()({ eventTime: seconds, size: '10 seconds', aggregate: { n: count() } }), outputMode('append')), [[{ ts: 100 }], [{ ts: 200 }]]);
    expect(same[1]!.rows).toEqual([{ window: { start: 100_000, end: 110_000 }, n: 1 }]);
    const left$ = fromBatches<Row>([[{ id: 1, ts: 100 }]]).pipe(withWatermark<Row>('ts', 0));
    const right$ = fromBatches<Row>([[{ id: 1, ts: 100 }]]).pipe(withWatermark<Row>('ts', 0));
    const join = failure(() => errorOf(left$.pipe(streamJoin(right$, { on: 'id', aligned: true, timeRange: { leftTime: seconds, rightTime: 'ts', lower: 0, upper: 10 } }))));
    expect(join).toBeInstanceOf(InvalidOptionError);
    expect((join as Error).message).toContain("streamJoin: timeRange.leftTime reads column 'ts' in seconds, but its withWatermark reads it as epoch milliseconds, a Date or ISO-8601 text.");
  });

  it('refuses a bad spec when the operator is built', () => {
    expect(() => withWatermark<Row>({ field: 'ts', unit: 'minutes' as never }, 0)).toThrow(new InvalidOptionError("withWatermark: eventTime.unit must be 'ms' or 'seconds'; got \"minutes\".", '', '', ''));
    expect(() => withWatermark<Row>({ field: '' as never }, 0)).toThrow('withWatermark: eventTime.field must be a field name; got "".');
    expect(() => withWatermark<Row>({ field: 'ts', format: 'dd-jj' }, 0)).toThrow(/^withWatermark: eventTime.format must be a date-fns format such as 'yyyy-MM-dd HH:mm:ss'; got "dd-jj"/);
  });
});
